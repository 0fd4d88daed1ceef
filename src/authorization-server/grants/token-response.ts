/**
 * The successful token response and the grant handler signature shared by every grant type.
 *
 * @see [RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1)
 * @module
 */
import { serializeScope } from '../../protocol/scope.js'
import type { Client, ServerContext } from '../context.js'
import { type AccessTokenClaims, issueAccessToken } from '../tokens.js'

/** RFC 6749 §5.1 members this server sends. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  expires_in: number
  scope: string
  refresh_token?: string
}

/** The parsed token request a grant handler receives. */
export interface TokenRequest {
  client: Client
  params: Map<string, string>
  /** Repeatable parameters (`resource`). */
  multi: Map<string, string[]>
}

/** One grant type: checks, state changes, response. Throws `OAuthError`. */
export type GrantHandler = (ctx: ServerContext, request: TokenRequest) => Promise<TokenResponse>

/** Signs the access token and audits the issuance. */
export async function respondWithAccessToken(
  ctx: ServerContext,
  grantType: string,
  claims: AccessTokenClaims,
  now: number,
  refreshToken?: string,
): Promise<TokenResponse> {
  // Upstream login (proxy): claims about the upstream identity, never an upstream token.
  const extra =
    'upstream' in ctx.login ? await ctx.login.upstream.accessTokenClaims(claims.grant_id) : undefined
  const issued = await issueAccessToken(
    {
      issuer: ctx.issuer,
      keys: ctx.keys,
      lifetimeMs: ctx.lifetimes.accessToken,
      sign: ctx.signJwt,
      randomToken: ctx.randomToken,
    },
    extra === undefined ? claims : { ...claims, extra },
    now,
  )
  ctx.audit({
    type: 'token.issued',
    at: now,
    grant_type: grantType,
    client_id: claims.client_id,
    subject: claims.subject,
    grant_id: claims.grant_id,
    resource: claims.resource,
    scopes: claims.scopes,
    jti: issued.jti,
  })
  const response: TokenResponse = {
    access_token: issued.token,
    token_type: 'Bearer',
    expires_in: issued.expires_in,
    scope: serializeScope(claims.scopes),
  }
  if (refreshToken !== undefined) response.refresh_token = refreshToken
  return response
}
