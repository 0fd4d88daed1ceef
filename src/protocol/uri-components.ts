/**
 * Raw RFC 3986 components of a URI string, read before the WHATWG `URL` parser rewrites it.
 *
 * The WHATWG parser strips tabs, newlines and surrounding spaces, turns `\` into `/`, adds
 * missing slashes after `http:`/`https:`, decodes percent-encoded hosts and resolves dot
 * segments. An identifier compared as a string must be judged on what was sent, so the checks
 * in `resource.ts` and `redirect-uri.ts` read these components first and use `URL` only to
 * validate and to normalise the host.
 *
 * @see [RFC 3986 Appendix B](https://www.rfc-editor.org/rfc/rfc3986#appendix-B)
 * @module
 */

/** The five components of RFC 3986 §3; `undefined` when the delimiter is absent. */
export interface UriComponents {
  scheme: string | undefined
  authority: string | undefined
  path: string
  query: string | undefined
  fragment: string | undefined
}

// RFC 3986 Appendix B, anchored. Every group is greedy over a negated class: linear time.
const URI_REFERENCE = /^(?:([^:/?#]+):)?(?:\/\/([^/?#]*))?([^?#]*)(?:\?([^#]*))?(?:#([\s\S]*))?$/

/** Splits a URI reference into its components without decoding or normalising anything. */
export function splitUri(input: string): UriComponents {
  const m = URI_REFERENCE.exec(input)
  // The expression matches every string; this branch only satisfies the type checker.
  if (m === null)
    return { scheme: undefined, authority: undefined, path: input, query: undefined, fragment: undefined }
  return { scheme: m[1], authority: m[2], path: m[3] ?? '', query: m[4], fragment: m[5] }
}

/** RFC 3986 §3.1 `scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )`. */
export const SCHEME_SYNTAX: RegExp = /^[A-Za-z][A-Za-z0-9+.-]*$/

/** Whether `text` contains a C0 control character, a space or DEL: what WHATWG silently strips. */
export function hasControlOrSpace(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code <= 0x20 || code === 0x7f) return true
  }
  return false
}

// RFC 3986 §2: unreserved / reserved / pct-encoded. `%` only as the start of a pct-encoded octet.
const URI_CHARACTERS = /^(?:[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=]|%[0-9A-Fa-f]{2})*$/

/** Whether every character of `text` may appear in an RFC 3986 URI, percent-escapes well formed. */
export function hasOnlyUriCharacters(text: string): boolean {
  return URI_CHARACTERS.test(text)
}

/**
 * Splits an authority (already known to hold no userinfo) into host and port as written.
 * IPv6 literals keep their brackets.
 *
 * @see [RFC 3986 §3.2.2](https://www.rfc-editor.org/rfc/rfc3986#section-3.2.2)
 */
export function splitHostPort(authority: string): { host: string; port: string | undefined } {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(authority)
  if (m === null) return { host: authority, port: undefined }
  return { host: m[1] ?? '', port: m[2] }
}

/**
 * Whether a path has a `.` or `..` segment, also percent-encoded (`%2e`): the WHATWG parser
 * resolves those, so the URI fetched would name another path than the one written.
 *
 * @see [RFC 3986 §5.2.4](https://www.rfc-editor.org/rfc/rfc3986#section-5.2.4)
 */
export function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => {
    const s = segment.replace(/%2e/gi, '.')
    return s === '.' || s === '..'
  })
}

/** `new URL(input)`, or `undefined` when the WHATWG parser refuses it. */
export function tryParseUrl(input: string): URL | undefined {
  try {
    return new URL(input)
  } catch {
    return undefined
  }
}
