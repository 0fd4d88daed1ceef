/**
 * Token introspection, for authenticated confidential clients (resource servers). An inactive,
 * unknown, expired or revoked token is `{ "active": false }` and nothing more.
 *
 * @see [RFC 7662 §2](https://www.rfc-editor.org/rfc/rfc7662#section-2)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { serializeScope } from '../../protocol/scope.js'
import { isConfidential } from '../clients/client-model.js'
import type { ServerContext } from '../context.js'
import { jsonResponse, NO_STORE, oauthErrorResponse } from '../http.js'
import { GRANT_ID_CLAIM, verifyOwnAccessToken } from '../tokens.js'
import type { ClientAuthenticator } from './token.js'
import { readTokenRequest } from './token-request.js'

/** Handles `POST /introspect`. */
export async function handleIntrospect(
  ctx: ServerContext,
  request: Request,
  authenticate: ClientAuthenticator,
): Promise<Response> {
  try {
    const { token, client } = await readTokenRequest(request, authenticate, 'introspect')
    // RFC 7662 §4: the endpoint must not let anyone probe tokens; public clients cannot prove who they are.
    if (!isConfidential(client.authMethod)) {
      throw new OAuthError('invalid_client', 'introspection requires a confidential client', { status: 401 })
    }
    const now = ctx.now()
    const inactive = jsonResponse({ active: false }, 200, NO_STORE)
    const verified = await verifyOwnAccessToken(ctx, token, now)
    if (verified !== undefined) {
      const r = verified.record
      if (!verified.active || r.expires_at <= now) return inactive
      return jsonResponse(
        {
          active: true,
          token_type: 'Bearer',
          scope: serializeScope(r.scopes),
          client_id: r.client_id,
          sub: r.subject,
          aud: r.resource,
          iss: ctx.issuer,
          exp: Math.floor(r.expires_at / 1000),
          ...(verified.payload.iat === undefined ? {} : { iat: verified.payload.iat }),
          jti: r.jti,
          // The same private claim the JWT carries, so an introspecting resource server sees it too.
          ...(r.grant_id === '' ? {} : { [GRANT_ID_CLAIM]: r.grant_id }),
        },
        200,
        NO_STORE,
      )
    }
    const refresh = await ctx.store.refreshTokens.get(await ctx.sha256(token), now)
    if (refresh === undefined || refresh.revoked_at !== undefined || refresh.rotated_at !== undefined)
      return inactive
    return jsonResponse(
      {
        active: true,
        token_type: 'refresh_token',
        scope: serializeScope(refresh.scopes),
        client_id: refresh.client_id,
        sub: refresh.subject,
        aud: refresh.resource,
        iss: ctx.issuer,
        exp: Math.floor(refresh.expires_at / 1000),
        iat: Math.floor(refresh.created_at / 1000),
      },
      200,
      NO_STORE,
    )
  } catch (error) {
    if (error instanceof OAuthError) return oauthErrorResponse(error, ctx.issuer)
    throw error
  }
}
