/**
 * Sources for the `form-action` directive of the pages' Content-Security-Policy.
 *
 * Chromium applies `form-action` to the redirect that answers a form POST, so the consent page
 * must allow the origin (or private-use scheme) the browser is sent to afterwards. The sources
 * come from client-supplied redirect URIs, so each one is checked against a strict grammar before
 * it reaches the header: a value such as `https://a.example; script-src *` must never add a
 * directive.
 *
 * @module
 */

// CSP3 host-source host-char is ALPHA / DIGIT / "-"; IPv6 literals are not in the grammar.
const HTTPS_ORIGIN = /^https:\/\/[a-z0-9-]+(?:\.[a-z0-9-]+)*(?::[0-9]{1,5})?$/
// RFC 8252 §7.3: plain http only for loopback redirects.
const LOOPBACK_HTTP_ORIGIN = /^http:\/\/(?:127(?:\.[0-9]{1,3}){3}|localhost)(?::[0-9]{1,5})?$/
// RFC 3986 §3.1 scheme, as a CSP scheme-source.
const SCHEME_SOURCE = /^[a-z][a-z0-9+.-]*:$/
// Scheme sources that would open form-action to the web at large or to script.
const REFUSED_SCHEMES: ReadonlySet<string> = new Set([
  'http:',
  'https:',
  'ws:',
  'wss:',
  'javascript:',
  'vbscript:',
  'data:',
  'blob:',
  'filesystem:',
  'about:',
  'file:',
  'ftp:',
])

function validPort(source: string): boolean {
  const match = /:([0-9]{1,5})$/.exec(source.replace(/^[a-z]+:\/\//, ''))
  if (match === null) return true
  const port = Number(match[1])
  return port >= 1 && port <= 65_535
}

/**
 * The source as it may appear in `form-action`, or `undefined` when it is not one of:
 * `https://host[:port]`, `http://127.x.x.x[:port]` / `http://localhost[:port]`, or a private-use
 * `scheme:`. Case is folded; anything else (paths, wildcards, keywords, spaces, `;`, `,`) is refused.
 *
 * @see [CSP Level 3 §2.3.1](https://www.w3.org/TR/CSP3/#framework-directive-source-list) source list grammar
 * @see [CSP Level 3 §6.4.1](https://www.w3.org/TR/CSP3/#directive-form-action) `form-action`
 */
export function formActionSource(source: string): string | undefined {
  if (typeof source !== 'string' || source.length > 300) return undefined
  const folded = source.toLowerCase()
  if (HTTPS_ORIGIN.test(folded) || LOOPBACK_HTTP_ORIGIN.test(folded)) {
    return validPort(folded) ? folded : undefined
  }
  if (SCHEME_SOURCE.test(folded) && !REFUSED_SCHEMES.has(folded)) return folded
  return undefined
}

/** The valid, distinct sources of `sources`, in order; invalid ones are dropped. */
export function sanitizeFormActionSources(sources: readonly string[]): string[] {
  const out: string[] = []
  for (const source of sources) {
    const valid = formActionSource(source)
    if (valid !== undefined && !out.includes(valid)) out.push(valid)
  }
  return out
}

/**
 * The `form-action` source that lets the browser follow a redirect to `redirectUri`: its origin
 * for `https` and loopback `http`, its scheme for a private-use scheme. `undefined` when no safe
 * source expresses it (an IPv6 literal, an `http` host that is not loopback, garbage).
 *
 * @see [RFC 8252 §7.1](https://www.rfc-editor.org/rfc/rfc8252#section-7.1) private-use URI scheme redirection
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) loopback interface redirection
 */
export function formActionSourceFor(redirectUri: string): string | undefined {
  let url: URL
  try {
    url = new URL(redirectUri)
  } catch {
    return undefined
  }
  if (url.protocol === 'https:' || url.protocol === 'http:') {
    return formActionSource(`${url.protocol}//${url.host}`)
  }
  return formActionSource(url.protocol)
}

/** The Content-Security-Policy of every page; `formActionSources` are sanitized here. */
export function contentSecurityPolicy(formActionSources: readonly string[] = []): string {
  const formAction = ["'self'", ...sanitizeFormActionSources(formActionSources)].join(' ')
  return [
    "default-src 'none'",
    "style-src 'self'",
    "img-src 'self' data:",
    `form-action ${formAction}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}
