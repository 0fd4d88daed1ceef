/**
 * Token revocation. A client can revoke only its own tokens (anchors S10); revoking a refresh token
 * revokes its whole grant (the refresh-token family and, through the grant, the access tokens it
 * produced); revoking an access token records its `jti` until it expires. The answer
 * is 200 whether or not anything was revoked, so it tells nothing about other clients' tokens.
 *
 * @see [RFC 7009 §2](https://www.rfc-editor.org/rfc/rfc7009#section-2)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import type { ServerContext } from '../context.js'
import { NO_STORE, oauthErrorResponse } from '../http.js'
import { verifyOwnAccessToken } from '../tokens.js'
import type { ClientAuthenticator } from './token.js'
import { readTokenRequest } from './token-request.js'

/** Handles `POST /revoke`. */
export async function handleRevoke(
  ctx: ServerContext,
  request: Request,
  authenticate: ClientAuthenticator,
): Promise<Response> {
  try {
    const { token, params, client } = await readTokenRequest(request, authenticate, 'revoke')
    const now = ctx.now()
    // RFC 7009 §2.1: the hint only orders the look-ups.
    const hint = params.get('token_type_hint')
    const order = hint === 'access_token' ? ['access', 'refresh'] : ['refresh', 'access']
    for (const kind of order) {
      if (kind === 'refresh') {
        const record = await ctx.store.refreshTokens.get(await ctx.sha256(token), now)
        if (record !== undefined) {
          if (
            record.client_id === client.client_id &&
            (await ctx.store.grants.revoke(record.grant_id, now))
          ) {
            ctx.audit({
              type: 'grant.revoked',
              at: now,
              grant_id: record.grant_id,
              client_id: client.client_id,
              reason: 'revocation',
            })
          }
          break
        }
      } else {
        const verified = await verifyOwnAccessToken(ctx, token, now)
        if (verified !== undefined) {
          if (
            verified.record.client_id === client.client_id &&
            (await ctx.store.accessTokens.revoke(verified.record, now))
          ) {
            ctx.audit({
              type: 'token.revoked',
              at: now,
              client_id: client.client_id,
              jti: verified.record.jti,
            })
          }
          break
        }
      }
    }
    return new Response(null, { status: 200, headers: NO_STORE })
  } catch (error) {
    if (error instanceof OAuthError) return oauthErrorResponse(error, ctx.issuer)
    throw error
  }
}
