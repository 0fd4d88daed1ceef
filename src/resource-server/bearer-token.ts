/**
 * Reading the bearer token from a request: only from one `Authorization` header, strictly.
 *
 * @see [RFC 6750 §2](https://www.rfc-editor.org/rfc/rfc6750#section-2)
 * @module
 */

/**
 * The longest `Authorization` value read, in characters. Larger values are refused before any
 * parsing. Node's default limit for all request headers together is 16 KiB.
 */
export const DEFAULT_MAX_AUTHORIZATION_LENGTH = 16 * 1024

/** What the request carries: one well-formed bearer token, none, or something to refuse. */
export type BearerTokenResult =
  | { kind: 'token'; token: string }
  | { kind: 'missing' }
  | { kind: 'invalid'; reason: BearerTokenInvalidReason }

/**
 * Why a request's credentials are refused with `400 invalid_request`.
 *
 * - `malformed`: `Bearer` not followed by exactly one space and a token68.
 * - `multiple`: more than one credential (several `Authorization` header lines, which a `Headers`
 *   object joins with `, `).
 * - `too-large`: the header is longer than the configured limit.
 * - `query`: an `access_token` query parameter (RFC 6750 §2.3; OAuth 2.1 §5.2 forbids it).
 * - `body`: an `access_token` form parameter (RFC 6750 §2.2; not supported).
 */
export type BearerTokenInvalidReason = 'malformed' | 'multiple' | 'too-large' | 'query' | 'body'

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Parses one `Authorization` field value. `Bearer` is matched case-insensitively (RFC 9110
 * §11.1), then exactly one space, then a token68 and nothing else. Another scheme alone is
 * "no bearer token"; anything that looks like several credentials is refused, because a
 * `Headers` object joins repeated header lines with `, ` and which one the client meant is
 * ambiguous.
 *
 * @see [RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750#section-2.1)
 * @see [OAuth 2.1 §5.2](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-5.2) one method per request
 */
export function parseAuthorizationHeader(
  value: string | null | undefined,
  maxLength = DEFAULT_MAX_AUTHORIZATION_LENGTH,
): BearerTokenResult {
  if (value === null || value === undefined) return { kind: 'missing' }
  if (value.length > maxLength) return { kind: 'invalid', reason: 'too-large' }
  const token = bearerCandidate(value, maxLength)
  if (token !== undefined) {
    if (TOKEN68.test(token)) return { kind: 'token', token }
    return { kind: 'invalid', reason: token.includes(',') ? 'multiple' : 'malformed' }
  }
  if (value.includes(',')) return { kind: 'invalid', reason: 'multiple' }
  if (/^bearer(?:\s|$)/i.test(value.trimStart())) return { kind: 'invalid', reason: 'malformed' }
  return { kind: 'missing' }
}

/**
 * What follows `Bearer ` (any case) in a field value of at most `maxLength` characters, with its
 * syntax not yet checked; `undefined` when the value is no such credential.
 */
function bearerCandidate(value: string | null | undefined, maxLength: number): string | undefined {
  if (value === null || value === undefined || value.length <= 7 || value.length > maxLength) return undefined
  if (value.charCodeAt(6) !== 0x20) return undefined
  return value.startsWith('Bearer') || value.slice(0, 6).toLowerCase() === 'bearer'
    ? value.slice(7)
    : undefined
}

/**
 * The two header values the guard reads, for an adapter that has them at hand already (the
 * Node adapters read them from the parsed request instead of through `Request.headers`).
 * Each holds every field line of that name joined with `, `, exactly as `Headers.get` returns
 * it, so that two `Authorization` lines are still seen as two credentials.
 */
export interface RequestHead {
  authorization: string | null
  contentType: string | null
}

const FORM = 'application/x-www-form-urlencoded'

/**
 * Finds an access token sent anywhere but the `Authorization` header: the `access_token` query
 * parameter or form-encoded body parameter. Either is refused. The body is read from a clone,
 * and only for form-encoded requests (then the answer is a promise; otherwise it is immediate).
 * `contentType` is the request's `Content-Type`, read from it unless given.
 *
 * @see [RFC 6750 §2.2, §2.3](https://www.rfc-editor.org/rfc/rfc6750#section-2.2)
 * @see [OAuth 2.1 §5.2](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-5.2) tokens MUST NOT be sent in the query string
 */
export function tokenOutsideHeader(
  request: Request,
  contentType: string | null = request.headers.get('content-type'),
): 'query' | Promise<'body' | undefined> | undefined {
  const url = request.url
  if (url.includes('access_token') && new URL(url).searchParams.has('access_token')) return 'query'
  if (contentType === null || !contentType.toLowerCase().startsWith(FORM) || request.body === null)
    return undefined
  return request
    .clone()
    .text()
    .then(
      (text) => (new URLSearchParams(text).has('access_token') ? 'body' : undefined),
      // An unreadable body carries no token we could find; the handler deals with it.
      () => undefined,
    )
}
