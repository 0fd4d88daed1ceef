/**
 * The refresh token grant: rotation with the store's grace window and reuse detection, bound to the
 * token's client and resource; the scope may narrow, never widen. The token, resource and scope
 * checks run inside the store's atomic rotation before anything changes, so a refused request
 * leaves the token usable (anchors S12).
 *
 * @see [RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)
 * @see [OAuth 2.1 §4.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3) rotation for public clients
 * @see [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2) replay detection
 * @module
 */
import { OAuthError, ProtocolError } from '../../protocol/errors.js'
import { parseScope } from '../../protocol/scope.js'
import { resolveResource } from '../checks/resource.js'
import { requiredParam } from '../http.js'
import { newSecret } from '../tokens.js'
import { type GrantHandler, respondWithAccessToken } from './token-response.js'

/** `grant_type=refresh_token`. */
export const refreshTokenGrant: GrantHandler = async (ctx, { client, params, multi }) => {
  const token = requiredParam(params, 'refresh_token')
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

  // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
  const requested = requestedScopes.filter((s) => s !== 'offline_access')

  const now = ctx.now()
  const [hash, successor] = await Promise.all([ctx.sha256(token), newSecret(ctx.sha256, ctx.randomToken)])
  // One atomic step in the store checks the token (this client's, live, unrevoked), its resource
  // and scope, and rotates; a refused request changes nothing.
  const rotation = await ctx.store.refreshTokens.rotate({
    presentedHash: hash,
    presentedToken: token,
    client_id: client.client_id,
    // The store refuses the rotation once the grant is revoked or past its absolute end.
    successor: { hash: successor.hash, token: successor.value, expires_at: now + ctx.lifetimes.refreshToken },
    now,
    expect: {
      // RFC 8707 §2.2: the token stays bound to the resource it was granted for.
      ...(requestedResource === undefined ? {} : { resource: requestedResource.uri }),
      scopes: requested,
    },
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
  if (rotation.status === 'refused') {
    throw rotation.reason === 'resource'
      ? new OAuthError('invalid_target', 'the resource does not match the grant')
      : new OAuthError('invalid_scope', 'the scope exceeds the grant')
  }
  if (rotation.status === 'invalid') throw new OAuthError('invalid_grant', 'the refresh token is invalid')
  // The successor inherits grant, subject, resource and scopes from the presented token.
  const { record } = rotation
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
