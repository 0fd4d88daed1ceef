/**
 * The token endpoint: parse, authenticate the client by its registered method, dispatch on
 * `grant_type` through the table of grant handlers. Every answer carries `Cache-Control: no-store`.
 *
 * @see [RFC 6749 §3.2](https://www.rfc-editor.org/rfc/rfc6749#section-3.2)
 * @see [RFC 6749 §5](https://www.rfc-editor.org/rfc/rfc6749#section-5)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import type { AuthenticatingEndpoint } from '../clients/authenticate-client.js'
import { JWT_BEARER_GRANT } from '../clients/client-model.js'
import type { Client, ServerContext } from '../context.js'
import { authorizationCodeGrant } from '../grants/authorization-code.js'
import { clientCredentialsGrant } from '../grants/client-credentials.js'
import { refreshTokenGrant } from '../grants/refresh-token.js'
import type { GrantHandler } from '../grants/token-response.js'
import { jsonResponse, NO_STORE, oauthErrorResponse, readForm } from '../http.js'

/** Authenticates a client for an endpoint (see `createClientAuthenticator`). */
export type ClientAuthenticator = (
  request: Request,
  params: Map<string, string>,
  endpoint: AuthenticatingEndpoint,
) => Promise<Client>

/** The grant handlers by `grant_type`. */
export function grantTable(jwtBearer: GrantHandler | undefined): ReadonlyMap<string, GrantHandler> {
  const table = new Map<string, GrantHandler>([
    ['authorization_code', authorizationCodeGrant],
    ['refresh_token', refreshTokenGrant],
    ['client_credentials', clientCredentialsGrant],
  ])
  if (jwtBearer !== undefined) table.set(JWT_BEARER_GRANT, jwtBearer)
  return table
}

/** Moves a dynamic registration's idle expiry forward, at most about once a day per client. */
export async function touchClient(ctx: ServerContext, client: Client, now: number): Promise<void> {
  const record = client.record
  if (record === undefined || record.kind !== 'dynamic') return
  const lastUsed = record.last_used_at ?? record.created_at
  if (now - lastUsed < Math.min(86_400_000, ctx.lifetimes.registrationIdle / 10)) return
  await ctx.store.clients.touch(record.client_id, now, now + ctx.lifetimes.registrationIdle)
}

/** Handles `POST /token`. */
export async function handleToken(
  ctx: ServerContext,
  request: Request,
  authenticate: ClientAuthenticator,
  grants: ReadonlyMap<string, GrantHandler>,
): Promise<Response> {
  try {
    const { params, multi } = await readForm(request, ['resource'])
    const grantType = params.get('grant_type')
    if (grantType === undefined) throw new OAuthError('invalid_request', 'grant_type is required')
    const handler = grants.get(grantType)
    if (handler === undefined)
      throw new OAuthError('unsupported_grant_type', 'this grant type is not supported')
    const client = await authenticate(request, params, 'token')
    // RFC 6749 §5.2 `unauthorized_client`: only the grant types the client registered.
    if (!client.grantTypes.includes(grantType)) {
      throw new OAuthError('unauthorized_client', 'the client is not registered for this grant type')
    }
    const body = await handler(ctx, { client, params, multi })
    await touchClient(ctx, client, ctx.now())
    return jsonResponse(body, 200, NO_STORE)
  } catch (error) {
    if (error instanceof OAuthError) return oauthErrorResponse(error, ctx.issuer)
    throw error
  }
}
