/**
 * The refresh token grant: rotation with the store's grace window and reuse detection, bound to the
 * token's client and resource; the scope may narrow, never widen. Every check runs before the
 * rotation, so a refused request leaves the token usable (anchors S12).
 *
 * @see [RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)
 * @see [OAuth 2.1 §4.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3) rotation for public clients
 * @see [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2) replay detection
 * @module
 */
import { OAuthError, ProtocolError } from '../../protocol/errors.js'
import { parseScope } from '../../protocol/scope.js'
import { resolveResource } from '../checks/resource.js'
import { newSecret } from '../tokens.js'
import { type GrantHandler, respondWithAccessToken } from './token-response.js'

/** `grant_type=refresh_token`. */
export const refreshTokenGrant: GrantHandler = async (ctx, { client, params, multi }) => {
  if (!client.grantTypes.includes('refresh_token')) {
    throw new OAuthError('unauthorized_client', 'the client is not registered for this grant type')
  }
  const token = params.get('refresh_token')
  if (token === undefined) throw new OAuthError('invalid_request', 'refresh_token is required')
  const requestedResource = multi.has('resource')
    ? resolveResource(ctx.resources, multi.get('resource'), undefined)
    : undefined
  let requestedScopes: string[]
  try {
    requestedScopes = parseScope(params.get('scope'))
  } catch (error) {
    if (error instanceof ProtocolError)
      throw new OAuthError('invalid_scope', 'the scope parameter is malformed')
    throw error
  }

  const now = ctx.now()
  const hash = await ctx.sha256(token)
  const record = await ctx.store.refreshTokens.get(hash, now)
  if (record === undefined || record.client_id !== client.client_id || record.revoked_at !== undefined) {
    throw new OAuthError('invalid_grant', 'the refresh token is invalid')
  }
  // RFC 8707 §2.2: the token stays bound to the resource it was granted for.
  if (requestedResource !== undefined && requestedResource.uri !== record.resource) {
    throw new OAuthError('invalid_target', 'the resource does not match the grant')
  }
  // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
  const granted = new Set(record.scopes)
  const requested = requestedScopes.filter((s) => s !== 'offline_access')
  if (!requested.every((s) => granted.has(s)))
    throw new OAuthError('invalid_scope', 'the scope exceeds the grant')

  const successor = await newSecret(ctx.sha256)
  const rotation = await ctx.store.refreshTokens.rotate({
    presentedHash: hash,
    presentedToken: token,
    client_id: client.client_id,
    // The store refuses the rotation once the grant is revoked or past its absolute end.
    successor: { hash: successor.hash, token: successor.value, expires_at: now + ctx.lifetimes.refreshToken },
    now,
  })
  if (rotation.status === 'reuse_detected') {
    ctx.audit({
      type: 'refresh.reuse_detected',
      at: now,
      client_id: client.client_id,
      grant_id: rotation.grant_id,
    })
    ctx.audit({
      type: 'grant.revoked',
      at: now,
      grant_id: rotation.grant_id,
      client_id: client.client_id,
      reason: 'refresh_reuse',
    })
    throw new OAuthError('invalid_grant', 'the refresh token was already used')
  }
  if (rotation.status === 'invalid') throw new OAuthError('invalid_grant', 'the refresh token is invalid')
  return respondWithAccessToken(
    ctx,
    'refresh_token',
    {
      grant_id: record.grant_id,
      client_id: client.client_id,
      subject: record.subject,
      resource: record.resource,
      scopes: requested.length > 0 ? requested : record.scopes,
    },
    now,
    rotation.token,
  )
}
