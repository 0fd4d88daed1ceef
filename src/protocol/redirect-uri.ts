/**
 * Redirect URI rules: what may be registered and presented, and how a presented URI is matched.
 *
 * @see [OAuth 2.1 §2.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-2.3.1)
 * @see [OAuth 2.1 §7.12](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-7.12)
 * @see [RFC 8252 §7](https://www.rfc-editor.org/rfc/rfc8252#section-7)
 * @module
 */

import { ProtocolError } from './errors.js'
import { isLoopbackHost } from './resource.js'
import {
  hasControlOrSpace,
  hasOnlyUriCharacters,
  SCHEME_SYNTAX,
  splitHostPort,
  splitUri,
  tryParseUrl,
} from './uri-components.js'

/**
 * The client's kind, as OpenID Connect Dynamic Client Registration `application_type` names it.
 *
 * @see [OIDC Dynamic Client Registration §2](https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata)
 */
export type ApplicationType = 'native' | 'web'

/** Options of {@link validateRedirectUri}. */
export interface RedirectUriValidationOptions {
  /** `'web'` refuses private-use schemes. Unset means the kind is unknown (as with RFC 7591). */
  applicationType?: ApplicationType
  /** Whether a private-use scheme (`cursor://`, `com.example.app:/cb`) is allowed. Default: true unless `applicationType` is `'web'`. */
  allowPrivateUseSchemes?: boolean
}

/** Options of {@link redirectUriMatches}. */
export interface RedirectUriMatchOptions {
  /**
   * Let an `http` loopback IP-literal URI (`127.0.0.0/8`, `[::1]`) match a registered one that
   * differs only in its port. `localhost` does not qualify: RFC 8252 §7.3 and §8.3 ask for IP
   * literals, and a name can be resolved elsewhere. Default false: exact matching.
   */
  loopbackAnyPort?: boolean
}

// Schemes that run code, read local data or name browser-internal documents (anchors S9).
const DANGEROUS_SCHEMES: ReadonlySet<string> = new Set([
  'javascript',
  'data',
  'vbscript',
  'file',
  'blob',
  'about',
  'filesystem',
])

// Schemes with a standard network meaning are not private-use schemes (RFC 8252 §7.1).
const NOT_PRIVATE_USE: ReadonlySet<string> = new Set(['ws', 'wss', 'ftp'])

function invalid(reason: string): ProtocolError {
  // The URI is never echoed: it is attacker input.
  return new ProtocolError('ERR_INVALID_REDIRECT_URI', `invalid redirect URI: ${reason}`)
}

/**
 * Checks that `uri` may be used as a redirect URI and returns it parsed.
 *
 * Accepted:
 * - `https:` with a host, for any client;
 * - `http:` only when the host is loopback: `localhost`, `127.0.0.0/8` or `[::1]` (MCP: redirect
 *   URIs are localhost or HTTPS; RFC 8252 §7.3);
 * - a private-use scheme (`cursor://…`, `vscode://…`, `com.example.app:/cb`, RFC 8252 §7.1) unless
 *   `applicationType` is `'web'` or `allowPrivateUseSchemes` is false.
 *
 * Refused, however spelled: `javascript:`, `data:`, `vbscript:`, `file:`, `blob:`, `about:`,
 * `filesystem:`. The raw string is judged before the WHATWG parser sees it, because that parser
 * strips tabs, newlines and surrounding spaces (`java\tscript:` would become `javascript:`): any
 * control character, space, DEL, non-ASCII character, `\` or malformed `%` escape is refused.
 * Also refused: relative URIs, userinfo (`http://localhost:80@evil.com/cb`), any fragment (even
 * an empty `#`), and a host not written in its canonical form (`http://0x7f000001/`,
 * `http://%6cocalhost/`), so the string compared later is the address actually used.
 *
 * The returned `URL` is for inspection; matching compares the original string
 * ({@link redirectUriMatches}).
 *
 * @throws {ProtocolError} `ERR_INVALID_REDIRECT_URI`
 * @see [OAuth 2.1 §2.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-2.3.1) absolute, no fragment
 * @see [OAuth 2.1 §7.12.2](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-7.12.2) open redirectors
 * @see [RFC 8252 §7.1](https://www.rfc-editor.org/rfc/rfc8252#section-7.1) private-use URI schemes
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) loopback interface redirection
 * @see [MCP Authorization: Communication Security](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#communication-security)
 */
export function validateRedirectUri(uri: string, options: RedirectUriValidationOptions = {}): URL {
  if (typeof uri !== 'string' || uri.length === 0) throw invalid('not a non-empty string')
  if (hasControlOrSpace(uri)) throw invalid('contains whitespace or control characters')
  if (!hasOnlyUriCharacters(uri)) throw invalid('contains characters outside RFC 3986')
  const parts = splitUri(uri)
  if (parts.scheme === undefined || !SCHEME_SYNTAX.test(parts.scheme)) throw invalid('not an absolute URI')
  const scheme = parts.scheme.toLowerCase()
  if (DANGEROUS_SCHEMES.has(scheme)) throw invalid('scheme is not allowed')
  if (parts.fragment !== undefined) throw invalid('a fragment is not allowed (OAuth 2.1 §2.3.1)')
  if (parts.authority?.includes('@')) throw invalid('userinfo is not allowed')

  const url = tryParseUrl(uri)
  if (url === undefined) throw invalid('not a valid URL')
  if (url.username !== '' || url.password !== '') throw invalid('userinfo is not allowed')

  if (scheme === 'https' || scheme === 'http') {
    // Without `//` the WHATWG parser would invent an authority (`https:host` → `https://host/`).
    if (parts.authority === undefined || parts.authority.length === 0) throw invalid('missing host')
    if (splitHostPort(parts.authority).host.toLowerCase() !== url.hostname) {
      throw invalid('host is not in canonical form')
    }
    if (scheme === 'http' && !isLoopbackHost(url.hostname)) {
      throw invalid('http is allowed only for loopback hosts')
    }
    return url
  }

  if (options.applicationType === 'web') throw invalid('private-use schemes are not allowed for web clients')
  if (options.allowPrivateUseSchemes === false) throw invalid('private-use schemes are not allowed')
  if (NOT_PRIVATE_USE.has(scheme)) throw invalid('scheme is not allowed')
  if (uri.length === parts.scheme.length + 1) throw invalid('missing path')
  return url
}

function isValid(uri: string): boolean {
  try {
    validateRedirectUri(uri)
    return true
  } catch {
    return false
  }
}

// `http://` + loopback IP literal + optional port + the rest, on a URI that already passed
// validation (so no userinfo, no fragment, canonical host).
const LOOPBACK_IP_URI = /^http:\/\/(\[::1\]|127\.[0-9.]+)(?::[0-9]*)?([/?][\s\S]*)?$/

function withoutLoopbackPort(uri: string): string | undefined {
  const m = LOOPBACK_IP_URI.exec(uri)
  if (m === null || m[1] === undefined || !isLoopbackHost(m[1])) return undefined
  return `http://${m[1]}${m[2] ?? ''}`
}

/**
 * Whether `presented` is one of the `registered` redirect URIs.
 *
 * By default the comparison is exact, character for character (OAuth 2.1: no case folding, no
 * percent-decoding, no trailing-slash or default-port equivalence). With `loopbackAnyPort`, an
 * `http` URI on a loopback IP literal also matches a registered one that is identical except for
 * its port (RFC 8252 §7.3). `presented` must itself pass {@link validateRedirectUri}, so a URI
 * stored earlier under looser rules is not redirected to (anchors S17). Never throws: anything
 * malformed gives `false`.
 *
 * @see [OAuth 2.1 §4.1.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.1) exact string matching
 * @see [RFC 3986 §6.2.1](https://www.rfc-editor.org/rfc/rfc3986#section-6.2.1) simple string comparison
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) any port for loopback IP redirects
 */
export function redirectUriMatches(
  registered: readonly string[],
  presented: string,
  options: RedirectUriMatchOptions = {},
): boolean {
  try {
    if (!Array.isArray(registered) || typeof presented !== 'string' || !isValid(presented)) return false
    const candidates = registered.filter((r): r is string => typeof r === 'string')
    if (candidates.includes(presented)) return true
    if (options.loopbackAnyPort !== true) return false
    const key = withoutLoopbackPort(presented)
    if (key === undefined) return false
    return candidates.some((r) => isValid(r) && withoutLoopbackPort(r) === key)
  } catch {
    return false
  }
}
