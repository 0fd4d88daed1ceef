/**
 * The answers of a protected resource that refuses a request: `401`, `403` and `400` with a
 * `Bearer` challenge that always names the Protected Resource Metadata, plus `413` and `503`.
 *
 * Descriptions are fixed, generic sentences: they never say which check failed and never echo
 * the token or any other input.
 *
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 * @see [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)
 * @module
 */

import type { OAuthErrorCode } from '../protocol/errors.js'
import { bearerChallenge } from '../protocol/www-authenticate.js'

/** Where every challenge points, and the optional realm. */
export interface ChallengeContext {
  resourceMetadataUrl: string
  realm?: string
}

const DESCRIPTIONS = {
  invalid_request: 'The request carries malformed or repeated credentials',
  invalid_token: 'The access token is invalid',
  insufficient_scope: 'The access token does not grant the scopes this request needs',
} as const

function challengeResponse(
  status: number,
  context: ChallengeContext,
  error: keyof typeof DESCRIPTIONS | undefined,
  scopes: readonly string[] | undefined,
): Response {
  const header = bearerChallenge({
    ...(context.realm === undefined ? {} : { realm: context.realm }),
    ...(error === undefined ? {} : { error, error_description: DESCRIPTIONS[error] }),
    ...(scopes === undefined || scopes.length === 0 ? {} : { scope: scopes }),
    resource_metadata: context.resourceMetadataUrl,
  })
  const headers = new Headers({ 'www-authenticate': header, 'cache-control': 'no-store' })
  if (error === undefined) return new Response(null, { status, headers })
  headers.set('content-type', 'application/json')
  return new Response(JSON.stringify({ error, error_description: DESCRIPTIONS[error] }), { status, headers })
}

/**
 * `401` for a request without a bearer token: no error code (RFC 6750 §3.1), the scopes this
 * operation needs, and `resource_metadata` for discovery.
 *
 * @see [MCP Authorization: Protected Resource Metadata Discovery Requirements](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protected-resource-metadata-discovery-requirements)
 */
export function missingTokenResponse(context: ChallengeContext, scopes: readonly string[]): Response {
  return challengeResponse(401, context, undefined, scopes)
}

/**
 * `401 invalid_token`: a bad, expired, not-yet-valid, wrong-issuer or wrong-audience token.
 *
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)
 * @see [OAuth 2.1 §5.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-5.3)
 */
export function invalidTokenResponse(context: ChallengeContext, scopes: readonly string[]): Response {
  return challengeResponse(401, context, 'invalid_token', scopes)
}

/**
 * `403 insufficient_scope` naming every scope the operation needs, in one challenge.
 *
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)
 * @see [MCP 2026-07-28 Authorization: scope challenges (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 */
export function insufficientScopeResponse(context: ChallengeContext, scopes: readonly string[]): Response {
  return challengeResponse(403, context, 'insufficient_scope', scopes)
}

/**
 * `400 invalid_request`: repeated, malformed or oversized credentials, or a token sent in the
 * query string or a form body.
 *
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1)
 */
export function invalidRequestResponse(context: ChallengeContext): Response {
  return challengeResponse(400, context, 'invalid_request', undefined)
}

function jsonError(
  status: number,
  error: OAuthErrorCode,
  description: string,
  extra?: HeadersInit,
): Response {
  const headers = new Headers(extra)
  headers.set('content-type', 'application/json')
  headers.set('cache-control', 'no-store')
  return new Response(JSON.stringify({ error, error_description: description }), { status, headers })
}

/** `413`: the body is too large to read the scope policy from. */
export function bodyTooLargeResponse(): Response {
  return jsonError(413, 'invalid_request', 'The request body is too large')
}

/** `503`: the token could not be judged (keys or introspection unreachable). Retry later. */
export function unavailableResponse(): Response {
  return jsonError(503, 'temporarily_unavailable', 'The access token cannot be checked right now', {
    'retry-after': '5',
  })
}
