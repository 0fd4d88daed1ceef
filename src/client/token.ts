/**
 * Token endpoint requests: authorization code exchange, refresh, client credentials, JWT bearer,
 * token exchange for an identity assertion (ID-JAG), and revocation. Every grant sends
 * `resource`; client authentication is the registered method.
 *
 * @see [OAuth 2.1 §4.1.3, §4.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.3)
 * @see [MCP Authorization: Resource Parameter Implementation](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#resource-parameter-implementation)
 * @module
 */

import * as oauth from 'oauth4webapi'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import type { AuthorizationRecord } from './authorization.js'
import type { StoredClient, StoredTokens } from './credential-store.js'
import { checkEndpoint, type EndpointPolicy } from './endpoint-policy.js'
import { ClientError } from './errors.js'
import type { ClientPrivateKey } from './registration.js'

/** Everything a token endpoint request needs. */
export interface TokenRequestContext {
  metadata: AuthorizationServerMetadata
  client: StoredClient
  /** For `private_key_jwt`. */
  privateKey?: ClientPrivateKey | undefined
  fetch: typeof fetch
  policy: EndpointPolicy
  /** Milliseconds since the epoch. */
  clock: () => number
  /** Sender-constrains the tokens (RFC 9449). */
  dpop?: oauth.DPoPHandle | undefined
  signal?: AbortSignal | undefined
}

/** RFC 7523 / RFC 8693 grant and token type URIs. */
export const GRANT_JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer'
export const GRANT_TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange'
export const TOKEN_TYPE_ID_JAG = 'urn:ietf:params:oauth:token-type:id-jag'
export const TOKEN_TYPE_ID_TOKEN = 'urn:ietf:params:oauth:token-type:id_token'

/**
 * `client_secret_basic`: HTTP Basic with the client id and secret form-urlencoded first
 * (RFC 6749 §2.3.1), using the `application/x-www-form-urlencoded` serializer, which leaves
 * `*-._` and alphanumerics as they are. Stricter encoders (`-` as `%2D`) break servers that do
 * not decode the credentials.
 *
 * @see [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1)
 */
export function clientSecretBasic(clientSecret: string): oauth.ClientAuth {
  const encode = (value: string): string => new URLSearchParams({ v: value }).toString().slice(2)
  return (_as, client, _body, headers) => {
    headers.set('authorization', `Basic ${btoa(`${encode(client.client_id)}:${encode(clientSecret)}`)}`)
  }
}

/**
 * The oauth4webapi client authentication for a stored client.
 *
 * @throws {ClientError} `ERR_INVALID_OPTIONS` when the method needs a secret or key the client lacks
 * @see [OAuth 2.1 §2.4](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-2.4)
 */
export function clientAuthentication(client: StoredClient, privateKey?: ClientPrivateKey): oauth.ClientAuth {
  switch (client.token_endpoint_auth_method) {
    case 'none':
      return oauth.None()
    case 'client_secret_basic':
    case 'client_secret_post': {
      if (client.client_secret === undefined) {
        throw new ClientError('ERR_INVALID_OPTIONS', 'the client has no secret for its authentication method')
      }
      return client.token_endpoint_auth_method === 'client_secret_basic'
        ? clientSecretBasic(client.client_secret)
        : oauth.ClientSecretPost(client.client_secret)
    }
    case 'private_key_jwt': {
      if (privateKey === undefined) {
        throw new ClientError('ERR_INVALID_OPTIONS', 'private_key_jwt needs a private key')
      }
      return oauth.PrivateKeyJwt(privateKey.kid === undefined ? privateKey.key : privateKey)
    }
  }
}

function requestOptions(ctx: TokenRequestContext) {
  return {
    [oauth.customFetch]: ctx.fetch,
    [oauth.allowInsecureRequests]: ctx.policy.allowInsecureLoopback,
    ...(ctx.dpop === undefined ? {} : { DPoP: ctx.dpop }),
    ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
  }
}

function asServer(metadata: AuthorizationServerMetadata): oauth.AuthorizationServer {
  return metadata as oauth.AuthorizationServer
}

function asClient(client: StoredClient): oauth.Client {
  return { client_id: client.client_id, token_endpoint_auth_method: client.token_endpoint_auth_method }
}

function tokenError(error: unknown, what: string): ClientError {
  if (error instanceof ClientError) return error
  if (error instanceof oauth.ResponseBodyError) {
    return new ClientError('ERR_TOKEN', `${what} was refused`, {
      oauthError: error.error,
      status: error.status,
      detail: error.error_description,
      cause: error,
    })
  }
  return new ClientError('ERR_TOKEN', `${what} failed`, {
    detail: error instanceof Error ? error.message : undefined,
    cause: error,
  })
}

function tokenEndpoint(ctx: TokenRequestContext): void {
  if (ctx.metadata.token_endpoint === undefined) {
    throw new ClientError('ERR_DISCOVERY', 'the authorization server has no token endpoint')
  }
  checkEndpoint(ctx.metadata.token_endpoint, ctx.policy, 'token_endpoint')
}

/**
 * Turns a token endpoint response into what is stored. Without a new refresh token the previous
 * one is kept (RFC 6749 §6: the server may keep it).
 */
export function toStoredTokens(
  response: oauth.TokenEndpointResponse,
  input: {
    issuer: string
    resource: string
    now: number
    requestedScope?: string | undefined
    previous?: StoredTokens | undefined
    dpopJkt?: string | undefined
  },
): StoredTokens {
  const tokens: StoredTokens = {
    issuer: input.issuer,
    resource: input.resource,
    access_token: response.access_token,
    token_type: response.token_type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer',
  }
  const refresh = response.refresh_token ?? input.previous?.refresh_token
  if (refresh !== undefined) tokens.refresh_token = refresh
  if (typeof response.expires_in === 'number') tokens.expires_at = input.now + response.expires_in * 1000
  const scope = response.scope ?? input.previous?.scope
  if (scope !== undefined) tokens.scope = scope
  const requested = input.requestedScope ?? input.previous?.requested_scope
  if (requested !== undefined) tokens.requested_scope = requested
  if (tokens.token_type === 'DPoP' && input.dpopJkt !== undefined) tokens.dpop_jkt = input.dpopJkt
  return tokens
}

async function jkt(ctx: TokenRequestContext): Promise<string | undefined> {
  return ctx.dpop === undefined ? undefined : ctx.dpop.calculateThumbprint()
}

/** What sets one grant apart: its request, and the oauth4webapi check of its response. */
interface Grant {
  send: (as: oauth.AuthorizationServer, client: oauth.Client, auth: oauth.ClientAuth) => Promise<Response>
  process: (
    as: oauth.AuthorizationServer,
    client: oauth.Client,
    response: Response,
  ) => Promise<oauth.TokenEndpointResponse>
}

/**
 * The part every grant at `ctx`'s token endpoint shares: sends the grant's request with the
 * client's authentication, checks the response (retrying once with the server's nonce after
 * `use_dpop_nonce`, RFC 9449 §8) and turns it into {@link StoredTokens}, bound to the DPoP key
 * when there is one. Any failure becomes a `ClientError` naming `what`.
 *
 * @throws {ClientError} `ERR_TOKEN`, or the `ClientError` a step threw
 */
async function grantTokens(
  ctx: TokenRequestContext,
  what: string,
  stored: { resource: string; requestedScope?: string | undefined; previous?: StoredTokens | undefined },
  grant: Grant,
): Promise<StoredTokens> {
  try {
    const as = asServer(ctx.metadata)
    const client = asClient(ctx.client)
    const auth = clientAuthentication(ctx.client, ctx.privateKey)
    const attempt = async () => grant.process(as, client, await grant.send(as, client, auth))
    let response: oauth.TokenEndpointResponse
    try {
      response = await attempt()
    } catch (error) {
      if (ctx.dpop === undefined || !oauth.isDPoPNonceError(error)) throw error
      response = await attempt()
    }
    return toStoredTokens(response, {
      issuer: ctx.metadata.issuer,
      now: ctx.clock(),
      ...stored,
      dpopJkt: await jkt(ctx),
    })
  } catch (error) {
    throw tokenError(error, what)
  }
}

/**
 * Exchanges an authorization code (after {@link processAuthorizationCallback} accepted the
 * response) for tokens, with the PKCE verifier and `resource`.
 *
 * @throws {ClientError} `ERR_TOKEN`
 * @see [OAuth 2.1 §4.1.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.3)
 */
export async function exchangeAuthorizationCode(
  ctx: TokenRequestContext,
  record: AuthorizationRecord,
  callback: URLSearchParams,
): Promise<StoredTokens> {
  tokenEndpoint(ctx)
  return grantTokens(
    ctx,
    'the authorization code exchange',
    { resource: record.resource, requestedScope: record.scope },
    {
      send: (as, client, auth) =>
        oauth.authorizationCodeGrantRequest(
          as,
          client,
          auth,
          // oauth4webapi re-checks state and iss; our checks have already passed.
          oauth.validateAuthResponse(as, client, callback, record.state),
          record.redirect_uri,
          record.code_verifier,
          { ...requestOptions(ctx), additionalParameters: { resource: record.resource } },
        ),
      process: oauth.processAuthorizationCodeResponse,
    },
  )
}

/**
 * Refreshes the access token, with `resource`, at the issuer that minted it.
 *
 * @throws {ClientError} `ERR_TOKEN` (`oauthError` `invalid_grant` when the refresh token is spent or revoked)
 * @see [OAuth 2.1 §4.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3)
 */
export async function refreshAccessToken(
  ctx: TokenRequestContext,
  tokens: StoredTokens,
): Promise<StoredTokens> {
  tokenEndpoint(ctx)
  // S22: a refresh token is only ever sent to the issuer that minted it.
  if (tokens.issuer !== ctx.metadata.issuer || tokens.refresh_token === undefined) {
    throw new ClientError('ERR_REFRESH_FAILED', 'no refresh token for this authorization server')
  }
  const refreshToken = tokens.refresh_token
  return grantTokens(
    ctx,
    'the refresh',
    { resource: tokens.resource, previous: tokens },
    {
      send: (as, client, auth) =>
        oauth.refreshTokenGrantRequest(as, client, auth, refreshToken, {
          ...requestOptions(ctx),
          additionalParameters: { resource: tokens.resource },
        }),
      process: oauth.processRefreshTokenResponse,
    },
  )
}

/**
 * The client credentials grant (SEP-1046), authenticated with a secret or `private_key_jwt`.
 *
 * @throws {ClientError} `ERR_TOKEN`
 * @see [OAuth 2.1 §4.2](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.2)
 * @see [MCP extension: OAuth Client Credentials](https://github.com/modelcontextprotocol/ext-auth)
 */
export async function requestClientCredentials(
  ctx: TokenRequestContext,
  input: { resource: string; scope?: string | undefined },
): Promise<StoredTokens> {
  return genericGrant(ctx, 'client_credentials', {}, input, 'the client credentials grant')
}

/**
 * The JWT bearer grant (RFC 7523 §2.1): an assertion from a workload identity or an identity
 * assertion authorization grant (ID-JAG).
 *
 * @throws {ClientError} `ERR_TOKEN`
 * @see [RFC 7523 §2.1](https://www.rfc-editor.org/rfc/rfc7523#section-2.1)
 */
export async function requestJwtBearer(
  ctx: TokenRequestContext,
  input: { assertion: string; resource: string; scope?: string | undefined },
): Promise<StoredTokens> {
  return genericGrant(ctx, GRANT_JWT_BEARER, { assertion: input.assertion }, input, 'the JWT bearer grant')
}

async function genericGrant(
  ctx: TokenRequestContext,
  grantType: string,
  extra: Record<string, string>,
  input: { resource: string; scope?: string | undefined },
  what: string,
): Promise<StoredTokens> {
  tokenEndpoint(ctx)
  const parameters = new URLSearchParams(extra)
  parameters.set('resource', input.resource)
  if (input.scope !== undefined && input.scope !== '') parameters.set('scope', input.scope)
  return grantTokens(
    ctx,
    what,
    { resource: input.resource, requestedScope: input.scope },
    {
      send: (as, client, auth) =>
        oauth.genericTokenEndpointRequest(as, client, auth, grantType, parameters, requestOptions(ctx)),
      process: oauth.processGenericTokenEndpointResponse,
    },
  )
}

/** Inputs of {@link exchangeForIdentityAssertion}. */
export interface IdentityAssertionExchangeInput {
  /** The enterprise IdP's token endpoint. */
  tokenEndpoint: string
  /** The client at the IdP. */
  client: StoredClient
  /** The user's ID token from the IdP. */
  subjectToken: string
  /** The MCP authorization server's issuer identifier. */
  audience: string
  /** The MCP server's resource identifier. */
  resource: string
  scope?: string | undefined
  fetch: typeof fetch
  policy: EndpointPolicy
  signal?: AbortSignal | undefined
}

/**
 * Exchanges the user's ID token at the enterprise IdP for an Identity Assertion JWT
 * Authorization Grant (ID-JAG) for the MCP authorization server (RFC 8693 token exchange).
 *
 * @throws {ClientError} `ERR_TOKEN`
 * @see [RFC 8693 §2.1](https://www.rfc-editor.org/rfc/rfc8693#section-2.1)
 * @see [MCP extension: Enterprise-Managed Authorization (SEP-990)](https://github.com/modelcontextprotocol/ext-auth)
 */
export async function exchangeForIdentityAssertion(input: IdentityAssertionExchangeInput): Promise<string> {
  checkEndpoint(input.tokenEndpoint, input.policy, 'identity provider token endpoint')
  const idp = {
    issuer: new URL(input.tokenEndpoint).origin,
    token_endpoint: input.tokenEndpoint,
  } as oauth.AuthorizationServer
  const parameters = new URLSearchParams({
    requested_token_type: TOKEN_TYPE_ID_JAG,
    subject_token: input.subjectToken,
    subject_token_type: TOKEN_TYPE_ID_TOKEN,
    audience: input.audience,
    resource: input.resource,
  })
  if (input.scope !== undefined && input.scope !== '') parameters.set('scope', input.scope)
  try {
    const client = asClient(input.client)
    const response = await oauth.genericTokenEndpointRequest(
      idp,
      client,
      clientAuthentication(input.client),
      GRANT_TOKEN_EXCHANGE,
      parameters,
      {
        [oauth.customFetch]: input.fetch,
        [oauth.allowInsecureRequests]: input.policy.allowInsecureLoopback,
        ...(input.signal === undefined ? {} : { signal: input.signal }),
      },
    )
    const result = await oauth.processGenericTokenEndpointResponse(idp, client, response, {
      // RFC 8693 §2.2.1: an ID-JAG is not an access token; its token_type is N_A.
      recognizedTokenTypes: { n_a: () => {} },
    })
    if (result['issued_token_type'] !== TOKEN_TYPE_ID_JAG) {
      throw new ClientError('ERR_TOKEN', 'the identity provider did not issue an ID-JAG')
    }
    return result.access_token
  } catch (error) {
    throw tokenError(error, 'the identity assertion exchange')
  }
}

/**
 * Revokes a token at the issuer's revocation endpoint (RFC 7009). Resolves `false` when the
 * server has none.
 *
 * @throws {ClientError} `ERR_TOKEN`
 * @see [RFC 7009 §2](https://www.rfc-editor.org/rfc/rfc7009#section-2)
 */
export async function revokeToken(
  ctx: TokenRequestContext,
  token: string,
  hint: 'access_token' | 'refresh_token',
): Promise<boolean> {
  const endpoint = ctx.metadata.revocation_endpoint
  if (endpoint === undefined) return false
  checkEndpoint(endpoint, ctx.policy, 'revocation_endpoint')
  try {
    const response = await oauth.revocationRequest(
      asServer(ctx.metadata),
      asClient(ctx.client),
      clientAuthentication(ctx.client, ctx.privateKey),
      token,
      {
        [oauth.customFetch]: ctx.fetch,
        [oauth.allowInsecureRequests]: ctx.policy.allowInsecureLoopback,
        additionalParameters: { token_type_hint: hint },
        ...(ctx.signal === undefined ? {} : { signal: ctx.signal }),
      },
    )
    await oauth.processRevocationResponse(response)
    return true
  } catch (error) {
    throw tokenError(error, 'the revocation')
  }
}
