/**
 * Canonical resource identifiers (the MCP "canonical server URI") and audience matching.
 *
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2)
 * @see [MCP Authorization: Canonical Server URI](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#canonical-server-uri)
 * @module
 */

import { ProtocolError } from './errors.js'
import {
  hasControlOrSpace,
  hasDotSegment,
  hasOnlyUriCharacters,
  SCHEME_SYNTAX,
  splitUri,
  tryParseUrl,
} from './uri-components.js'

function invalid(reason: string): ProtocolError {
  // The input is never echoed: a query may carry anything the caller configured.
  return new ProtocolError('ERR_INVALID_RESOURCE', `invalid resource identifier: ${reason}`)
}

/**
 * The canonical form of a resource identifier, as sent in `resource` (RFC 8707) and compared
 * against a token's audience.
 *
 * - an absolute `http` or `https` URI with an authority; scheme and host lower-cased (an
 *   internationalised host becomes its punycode form), the default port (80 / 443) removed;
 * - a fragment is refused, even an empty one (RFC 8707 §2: MUST NOT include a fragment). It is
 *   refused rather than stripped so that a misconfigured identifier is noticed, not silently
 *   rewritten;
 * - userinfo is refused;
 * - a root path (`/`) becomes the empty path, so `https://mcp.example.com/` and
 *   `https://mcp.example.com` are one identifier (MCP: no trailing slash);
 * - any other path is kept exactly as given, percent-encoding and trailing slash included, since
 *   the server owns its identifier. Dot segments (`.`, `..`, also percent-encoded) are refused,
 *   because `fetch` would resolve them and the identifier would name another path;
 * - a query is kept as given (RFC 8707 SHOULD NOT contain one; it is allowed, not altered);
 * - whitespace, control characters, `\` and characters RFC 3986 does not allow in a path or query
 *   are refused instead of being dropped or encoded as the WHATWG parser would.
 *
 * The result is built by hand: `URL.href` appends `/` to an empty path. The function is
 * idempotent.
 *
 * @throws {ProtocolError} `ERR_INVALID_RESOURCE`
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2)
 * @see [RFC 3986 §6.2.2, §6.2.3](https://www.rfc-editor.org/rfc/rfc3986#section-6.2.2) case and scheme-based normalisation
 * @see [MCP Authorization: Canonical Server URI](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#canonical-server-uri)
 */
export function canonicalResource(input: string): string {
  if (typeof input !== 'string' || input.length === 0) throw invalid('not a non-empty string')
  if (hasControlOrSpace(input) || input.includes('\\')) {
    throw invalid('contains whitespace, control characters or a backslash')
  }
  const parts = splitUri(input)
  if (parts.fragment !== undefined) throw invalid('a fragment is not allowed (RFC 8707 §2)')
  if (parts.scheme === undefined || !SCHEME_SYNTAX.test(parts.scheme)) throw invalid('not an absolute URI')
  const scheme = parts.scheme.toLowerCase()
  if (scheme !== 'https' && scheme !== 'http') throw invalid('scheme must be https or http')
  // Without `//` the WHATWG parser would invent an authority (`https:host` → `https://host/`).
  if (parts.authority === undefined || parts.authority.length === 0) throw invalid('missing host')
  if (parts.authority.includes('@')) throw invalid('userinfo is not allowed')
  if (
    !hasOnlyUriCharacters(parts.path) ||
    (parts.query !== undefined && !hasOnlyUriCharacters(parts.query))
  ) {
    throw invalid('path or query contains characters outside RFC 3986')
  }
  if (hasDotSegment(parts.path)) throw invalid('dot segments are not allowed in the path')

  const url = tryParseUrl(input)
  if (url === undefined) throw invalid('not a valid URL')
  if (url.username !== '' || url.password !== '') throw invalid('userinfo is not allowed')

  // `URL.host` is the lower-cased (punycode) host with the default port already removed.
  const path = parts.path === '/' ? '' : parts.path
  const query = parts.query === undefined ? '' : `?${parts.query}`
  return `${scheme}://${url.host}${path}${query}`
}

function tryCanonical(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined
  try {
    return canonicalResource(value)
  } catch {
    return undefined
  }
}

/**
 * Whether a token audience names `resource`.
 *
 * True when any audience value has the same canonical form as `resource`: scheme and host are
 * compared case-insensitively, a default port equals no port, and the root path with or without
 * its slash is one path. Everything else is compared exactly: the path is case-sensitive and
 * `https://x/mcp` matches neither `https://x/mcp2` nor `https://x/mcp/other`. A value that cannot
 * be canonicalised (for instance one with a fragment) never matches, and neither does anything
 * when `resource` itself is invalid.
 *
 * @see [RFC 9068 §4](https://www.rfc-editor.org/rfc/rfc9068#section-4) `aud` must identify the resource server
 * @see [RFC 7519 §4.1.3](https://www.rfc-editor.org/rfc/rfc7519#section-4.1.3) `aud` is a string or an array of strings
 * @see [MCP Authorization: Token Audience Binding and Validation](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-audience-binding-and-validation)
 */
export function audienceMatches(aud: string | readonly string[] | undefined, resource: string): boolean {
  const expected = tryCanonical(resource)
  if (expected === undefined) return false
  const values: readonly unknown[] = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : []
  return values.some((value) => tryCanonical(value) === expected)
}

const IPV4_LOOPBACK = /^127\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2})\.(?:0|[1-9]\d{0,2})$/

/**
 * Whether `hostname` names the loopback interface, from the string alone (no DNS): `localhost`
 * (any case), a dotted-decimal address in `127.0.0.0/8` (no leading zeros, every octet at most
 * 255), or `::1` with or without brackets in any valid IPv6 spelling (`[0:0::1]`). IPv4-mapped
 * addresses (`::ffff:127.0.0.1`) and other IPv4 spellings (`0x7f000001`, `127.1`) are not
 * loopback here.
 *
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) loopback interface redirection
 * @see [RFC 6890 §2.2.2](https://www.rfc-editor.org/rfc/rfc6890#section-2.2.2) `127.0.0.0/8`, `::1/128`
 */
export function isLoopbackHost(hostname: string): boolean {
  if (typeof hostname !== 'string') return false
  const host = hostname.toLowerCase()
  if (host === 'localhost') return true
  if (IPV4_LOOPBACK.test(host)) return host.split('.').every((octet) => Number(octet) <= 255)
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
  if (!/^[0-9a-f:]+$/.test(bare) || !bare.includes(':')) return false
  try {
    // The WHATWG host parser serialises IPv6 in the RFC 5952 compressed form.
    return new URL(`http://[${bare}]/`).hostname === '[::1]'
  } catch {
    return false
  }
}
