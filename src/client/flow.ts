/**
 * The MCP authorization flow for any MCP client: a `fetch` wrapper that turns `401` and `403`
 * answers into discovery, registration, authorization, tokens, refresh and step-up, composed only
 * from the public steps of this folder.
 *
 * @see [MCP Authorization](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization)
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @module
 */

import * as oauth from 'oauth4webapi'
import type { ClientMetadata } from '../protocol/client-metadata.js'
import { canonicalResource, isLoopbackHost } from '../protocol/resource.js'
import { serializeScope } from '../protocol/scope.js'
import { buildAuthorizationRequest, processAuthorizationCallback } from './authorization.js'
import { interpretChallenge, type ResourceChallenge, readResourceChallenge } from './challenge.js'
import {
  type CredentialStore,
  createMemoryCredentialStore,
  createSingleFlight,
  type ServerBinding,
  type StoredClient,
  type StoredTokens,
} from './credential-store.js'
import type { EndpointPolicy } from './endpoint-policy.js'
import { ClientError } from './errors.js'
import type { RedirectHandler } from './redirect.js'
import {
  assertClientMetadataUrl,
  type ClientPrivateKey,
  findPreRegistered,
  isClientSecretExpired,
  metadataDocumentClient,
  type PreRegistration,
  preRegisteredClient,
  registerClient,
  registrationCoversRedirect,
  registrationRequestBody,
} from './registration.js'
import { discoverProtectedResource, type ResourceCheck } from './resource-discovery.js'
import { initialScopes, stepUpScopes } from './scope-selection.js'
import {
  assertUsableEndpoints,
  discoverAuthorizationServer,
  legacyAuthorizationServerMetadata,
} from './server-discovery.js'
import {
  exchangeAuthorizationCode,
  exchangeForIdentityAssertion,
  refreshAccessToken,
  requestClientCredentials,
  requestJwtBearer,
  revokeToken,
  type TokenRequestContext,
} from './token.js'

/**
 * How the client obtains tokens:
 *
 * - `authorization_code` (default): the user logs in through the browser (PKCE).
 * - `client_credentials`: the client acts for itself with pre-registered credentials (a secret or
 *   `private_key_jwt`; SEP-1046).
 * - `jwt_bearer`: a JWT assertion the host obtains (workload identity federation, RFC 7523).
 * - `enterprise_managed`: the user's ID token from the enterprise IdP is exchanged there for an
 *   ID-JAG, which the MCP authorization server takes as a JWT bearer grant (SEP-990).
 */
export type GrantOptions =
  | { type: 'authorization_code' }
  | { type: 'client_credentials'; scope?: string }
  | {
      type: 'jwt_bearer'
      /** Returns the assertion for the authorization server `issuer` and the `resource`. */
      assertion: (context: { issuer: string; resource: string }) => string | Promise<string>
      scope?: string
    }
  | {
      type: 'enterprise_managed'
      /** The enterprise IdP: its token endpoint and this client's registration there. */
      idp: { token_endpoint: string; client_id: string; client_secret?: string }
      /** Returns the user's ID token issued by the IdP. */
      idToken: () => string | Promise<string>
      scope?: string
    }

/** Progress reported to the host (a CLI shows these). Never carries a token or a secret. */
export type McpAuthEvent =
  | { type: 'discovery'; step: 'resource-metadata' | 'authorization-server-metadata'; url: string }
  | { type: 'registration'; issuer: string; method: StoredClient['source'] }
  | { type: 'browser'; issuer: string; url: string }
  | { type: 'token'; issuer: string; grant: string }
  | { type: 'refresh'; issuer: string }
  | { type: 'step-up'; issuer: string; scope: string }
  | { type: 'logout'; issuer: string; revoked: boolean }

/** Options of {@link createMcpAuthClient}. */
export interface McpAuthClientOptions {
  /** Where credentials live. Default: in memory (nothing survives the process). */
  credentialStore?: CredentialStore
  /** Gets the user to the authorization server and back. Required for the authorization code grant. */
  redirect?: RedirectHandler
  /** How tokens are obtained. Default `authorization_code`. */
  grant?: GrantOptions
  /**
   * The client's Client ID Metadata Document URL (`https`, with a path), used as `client_id`
   * where the authorization server supports it.
   */
  clientMetadataUrl?: string
  /** Key for `private_key_jwt` with the Client ID Metadata Document identity. */
  clientMetadataPrivateKey?: ClientPrivateKey
  /**
   * Metadata for Dynamic Client Registration (`client_name`, `application_type` ...).
   * `redirect_uris` come from the redirect handler; `application_type` defaults to `native`.
   */
  clientMetadata?: ClientMetadata
  /** Credentials registered out of band, per issuer. Never sent to another issuer. */
  preRegistered?: PreRegistration
  /** The `fetch` that reaches the MCP server. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /**
   * The `fetch` for every URL a server hands the client: metadata, registration, token and
   * revocation endpoints. On Node, pass an SSRF-safe fetch (`createSafeFetch` from
   * `portcullis/node`); `createNodeMcpAuthClient` does. Default: `fetch`.
   */
  oauthFetch?: typeof fetch
  /** Accept `http:` to loopback hosts for authorization URLs (development and tests). Default false. */
  allowInsecureLoopback?: boolean
  /** How the metadata's `resource` must match the MCP endpoint. Default `same-origin-prefix`. */
  resourceCheck?: ResourceCheck
  /** Picks the authorization server when the metadata lists several. Default: one with pre-registered credentials, else the first. */
  selectAuthorizationServer?: (issuers: readonly string[]) => string | undefined
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
  /** Progress callback. */
  onEvent?: (event: McpAuthEvent) => void
  /** Authorizations (first login and step-ups) allowed for one request. Default 3. */
  maxAuthorizationAttempts?: number
  /** Refresh this long before the access token expires. Default 60 000 ms. */
  refreshSkewMs?: number
  /** Ask for refresh tokens (`refresh_token` grant type, `offline_access` when listed). Default true. */
  refreshTokens?: boolean
  /** Sender-constrained tokens (RFC 9449): `auto` when the resource asks for them, or `never`. Default `auto`. */
  dpop?: 'auto' | 'never'
}

/** What the client knows about its authorization for one MCP server. No token values. */
export interface McpAuthStatus {
  serverUrl: string
  loggedIn: boolean
  issuer?: string
  resource?: string
  scope?: string
  /** Milliseconds since the epoch. */
  expiresAt?: number
  refreshable: boolean
}

/** The client returned by {@link createMcpAuthClient}. */
export interface McpAuthClient {
  /**
   * A `fetch` that authorizes requests to MCP servers: pass it as the `fetch` option of the MCP
   * SDK's Streamable HTTP client transport. Rejects with a {@link ClientError} when authorization
   * cannot be completed.
   */
  fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>
  /** Logs in to `serverUrl` now (discovery, registration, authorization) and returns the status. */
  login(serverUrl: string): Promise<McpAuthStatus>
  /** Revokes the tokens at the authorization server when it can (RFC 7009), then forgets them. */
  logout(serverUrl: string): Promise<{ revoked: boolean }>
  /** What is stored for `serverUrl`. */
  status(serverUrl: string): Promise<McpAuthStatus>
  /** The current access token for `serverUrl`, refreshed if needed; logs in when `interactive`. */
  token(
    serverUrl: string,
    options?: { interactive?: boolean },
  ): Promise<{ access_token: string; token_type: string } | undefined>
}

interface PreparedRequest {
  url: string
  method: string
  headers: Headers
  body: BodyInit | undefined
  init: RequestInit
}

interface Operation {
  attempts: number
  refreshed: boolean
  reauthorized: boolean
  nonceRetried: boolean
}

/** The MCP endpoint without query and fragment, canonical: the key of a server binding. */
export function serverKey(serverUrl: string): string {
  let url: URL
  try {
    url = new URL(serverUrl)
  } catch (error) {
    throw new ClientError('ERR_INVALID_OPTIONS', 'the MCP server URL is not a URL', { cause: error })
  }
  return canonicalResource(`${url.origin}${url.pathname}`)
}

async function prepareRequest(input: string | URL | Request, init?: RequestInit): Promise<PreparedRequest> {
  if (input instanceof Request) {
    const body = input.body === null ? undefined : await input.arrayBuffer()
    return {
      url: input.url,
      method: input.method,
      headers: new Headers(input.headers),
      body,
      init: { signal: input.signal, redirect: input.redirect, ...init },
    }
  }
  let body: BodyInit | undefined = init?.body ?? undefined
  // A stream can be read once; the request may be sent again after authorization.
  if (body instanceof ReadableStream) body = await new Response(body).arrayBuffer()
  return {
    url: input instanceof URL ? input.href : input,
    method: init?.method ?? 'GET',
    headers: new Headers(init?.headers),
    body,
    init: init ?? {},
  }
}

function expiringSoon(tokens: StoredTokens, now: number, skew: number): boolean {
  return tokens.expires_at !== undefined && now >= tokens.expires_at - skew
}

/**
 * Creates the MCP authorization client. Configuration errors surface here, not on the first
 * request.
 *
 * @throws {ClientError} `ERR_INVALID_OPTIONS`
 * @see [MCP Authorization: Authorization Flow Steps](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-flow-steps)
 */
export function createMcpAuthClient(options: McpAuthClientOptions = {}): McpAuthClient {
  const store = options.credentialStore ?? createMemoryCredentialStore()
  const transport = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const oauthFetch = options.oauthFetch ?? transport
  const clock = options.clock ?? Date.now
  const grant: GrantOptions = options.grant ?? { type: 'authorization_code' }
  const policy: EndpointPolicy = { allowInsecureLoopback: options.allowInsecureLoopback === true }
  const resourceCheck = options.resourceCheck ?? 'same-origin-prefix'
  const maxAttempts = options.maxAuthorizationAttempts ?? 3
  const skew = options.refreshSkewMs ?? 60_000
  const wantRefresh = options.refreshTokens !== false
  const singleFlight = createSingleFlight()
  const emit = (event: McpAuthEvent): void => {
    try {
      options.onEvent?.(event)
    } catch {
      // A failing progress callback must not break authorization.
    }
  }

  if (options.clientMetadataUrl !== undefined) assertClientMetadataUrl(options.clientMetadataUrl)
  if (resourceCheck !== 'exact' && resourceCheck !== 'same-origin-prefix') {
    throw new ClientError('ERR_INVALID_OPTIONS', 'resourceCheck must be exact or same-origin-prefix')
  }
  if (!Number.isSafeInteger(maxAttempts) || maxAttempts < 1) {
    throw new ClientError('ERR_INVALID_OPTIONS', 'maxAuthorizationAttempts must be a positive integer')
  }

  let dpopHandle: Promise<oauth.DPoPHandle> | undefined
  const dpop = (): Promise<oauth.DPoPHandle> => {
    dpopHandle ??= oauth
      .generateKeyPair('ES256')
      .then((keyPair) => oauth.DPoP({}, keyPair as oauth.CryptoKeyPair))
    return dpopHandle
  }

  const withLock = <T>(key: string, fn: () => Promise<T>): Promise<T> =>
    store.lock === undefined ? fn() : store.lock(key, fn)

  function privateKeyFor(client: StoredClient): ClientPrivateKey | undefined {
    if (client.source === 'pre-registered') {
      return findPreRegistered(options.preRegistered, client.issuer)?.private_key_jwt
    }
    if (client.source === 'metadata-document') return options.clientMetadataPrivateKey
    return undefined
  }

  async function tokenContext(binding: ServerBinding, client: StoredClient): Promise<TokenRequestContext> {
    return {
      metadata: binding.authorization_server,
      client,
      privateKey: privateKeyFor(client),
      fetch: oauthFetch,
      policy,
      clock,
      dpop: binding.dpop === true ? await dpop() : undefined,
    }
  }

  async function usableTokens(binding: ServerBinding): Promise<StoredTokens | undefined> {
    const tokens = await store.getTokens(binding.issuer, binding.resource)
    if (tokens === undefined || tokens.issuer !== binding.issuer) return undefined
    if (tokens.token_type === 'DPoP') {
      // A DPoP-bound token is useless without the key it is bound to.
      if (binding.dpop !== true || tokens.dpop_jkt !== (await (await dpop()).calculateThumbprint())) {
        return undefined
      }
    }
    return tokens
  }

  async function resolveClient(
    binding: ServerBinding,
    redirectUri: string | undefined,
    register: boolean,
  ): Promise<StoredClient> {
    const metadata = binding.authorization_server
    const pre = preRegisteredClient(binding.issuer, metadata, options.preRegistered)
    if (pre !== undefined) return pre
    const cimd = metadataDocumentClient(
      binding.issuer,
      metadata,
      options.clientMetadataUrl,
      options.clientMetadataPrivateKey,
    )
    if (cimd !== undefined) return cimd
    const stored = await store.getClient(binding.issuer)
    // SEP-2352: a registration is only ever used with the issuer that made it.
    const storedUsable =
      stored !== undefined && stored.issuer === binding.issuer && !isClientSecretExpired(stored, clock())
    if (storedUsable && (redirectUri === undefined || registrationCoversRedirect(stored, redirectUri))) {
      return stored
    }
    if (!register || redirectUri === undefined) {
      if (storedUsable) return stored
      throw new ClientError('ERR_NO_CLIENT_ID', 'no client id for this authorization server', {
        detail: `no registration with ${binding.issuer}`,
      })
    }
    if (metadata.registration_endpoint === undefined) {
      throw new ClientError('ERR_NO_CLIENT_ID', 'no client id for this authorization server', {
        detail: `${binding.issuer} supports neither Client ID Metadata Documents nor registration; pass preRegistered credentials for it`,
      })
    }
    emit({ type: 'registration', issuer: binding.issuer, method: 'dynamic' })
    const client = await registerClient(
      metadata,
      registrationRequestBody(metadata, {
        redirectUris: [redirectUri],
        clientMetadata: options.clientMetadata,
        refreshTokens: wantRefresh,
      }),
      { fetch: oauthFetch, policy },
    )
    await store.setClient(client)
    return client
  }

  function requirePreRegistered(binding: ServerBinding): StoredClient {
    const pre = preRegisteredClient(binding.issuer, binding.authorization_server, options.preRegistered)
    if (pre === undefined) {
      throw new ClientError('ERR_NO_CLIENT_ID', 'no pre-registered client for this authorization server', {
        detail: `${grant.type} needs preRegistered credentials for ${binding.issuer}`,
      })
    }
    return pre
  }

  async function discover(key: string, challenge: ResourceChallenge | undefined): Promise<ServerBinding> {
    const requirePkce = grant.type === 'authorization_code'
    const prm = await discoverProtectedResource(key, {
      fetch: oauthFetch,
      policy,
      resourceCheck,
      challengeUrl: challenge?.resource_metadata,
      onRequest: (url) => emit({ type: 'discovery', step: 'resource-metadata', url }),
    })
    const onRequest = (url: string): void =>
      emit({ type: 'discovery', step: 'authorization-server-metadata', url })
    let binding: ServerBinding
    if (prm !== undefined) {
      const servers = prm.metadata.authorization_servers ?? []
      const issuer =
        options.selectAuthorizationServer?.(servers) ??
        servers.find((s) => findPreRegistered(options.preRegistered, s) !== undefined) ??
        servers[0]
      if (issuer === undefined || !servers.includes(issuer)) {
        throw new ClientError('ERR_DISCOVERY', 'no authorization server to use for this resource')
      }
      const found = await discoverAuthorizationServer(issuer, {
        fetch: oauthFetch,
        policy,
        requirePkce,
        onRequest,
      })
      if (found === undefined) {
        throw new ClientError('ERR_DISCOVERY', 'the authorization server publishes no metadata', {
          detail: `no metadata document for ${issuer}`,
        })
      }
      binding = {
        server_url: key,
        resource: prm.metadata.resource,
        issuer,
        authorization_server: found.metadata,
        resource_metadata_url: prm.url,
      }
      if (prm.metadata.scopes_supported !== undefined)
        binding.scopes_supported = prm.metadata.scopes_supported
    } else {
      // 2025-03-26: no Protected Resource Metadata; the server's origin is the authorization server.
      const issuer = canonicalResource(new URL(key).origin)
      const found = await discoverAuthorizationServer(issuer, {
        fetch: oauthFetch,
        policy,
        requirePkce,
        onRequest,
      })
      const metadata = found?.metadata ?? legacyAuthorizationServerMetadata(issuer)
      if (found === undefined) assertUsableEndpoints(metadata, policy)
      binding = { server_url: key, resource: key, issuer, authorization_server: metadata }
      if (found === undefined) binding.legacy = true
    }
    const dpopAlgs = binding.authorization_server.dpop_signing_alg_values_supported
    if (
      options.dpop !== 'never' &&
      dpopAlgs?.includes('ES256') === true &&
      (challenge?.scheme === 'dpop' || prm?.metadata.dpop_bound_access_tokens_required === true)
    ) {
      binding.dpop = true
    }
    await store.setServer(binding)
    return binding
  }

  async function authorizationCodeFlow(binding: ServerBinding, scopes: string[]): Promise<StoredTokens> {
    const redirect = options.redirect
    if (redirect === undefined) {
      throw new ClientError('ERR_REDIRECT', 'a login is needed and no redirect handler is configured')
    }
    let reRegistered = false
    for (;;) {
      const session = await redirect.start()
      try {
        const client = await resolveClient(binding, session.redirectUri, true)
        const { url, record } = await buildAuthorizationRequest({
          metadata: binding.authorization_server,
          client,
          redirectUri: session.redirectUri,
          resource: binding.resource,
          scopes,
          policy,
        })
        emit({ type: 'browser', issuer: binding.issuer, url })
        let params: URLSearchParams
        try {
          params = await session.authorize(url, record.state)
        } catch (error) {
          if (error instanceof ClientError) throw error
          throw new ClientError('ERR_REDIRECT', 'no authorization response arrived', { cause: error })
        }
        await processAuthorizationCallback(record, params)
        emit({ type: 'token', issuer: binding.issuer, grant: 'authorization_code' })
        try {
          return await exchangeAuthorizationCode(await tokenContext(binding, client), record, params)
        } catch (error) {
          // A dynamic registration the server forgot: register again, once. Pre-registered and
          // metadata-document identities are never discarded.
          if (
            error instanceof ClientError &&
            error.oauthError === 'invalid_client' &&
            client.source === 'dynamic' &&
            !reRegistered
          ) {
            reRegistered = true
            await store.deleteClient(binding.issuer)
            continue
          }
          throw error
        }
      } finally {
        await session.close()
      }
    }
  }

  async function obtainTokens(binding: ServerBinding, scopes: string[]): Promise<StoredTokens> {
    const scope = scopes.length > 0 ? serializeScope(scopes) : undefined
    switch (grant.type) {
      case 'authorization_code':
        return authorizationCodeFlow(binding, scopes)
      case 'client_credentials': {
        const client = requirePreRegistered(binding)
        emit({ type: 'token', issuer: binding.issuer, grant: 'client_credentials' })
        return requestClientCredentials(await tokenContext(binding, client), {
          resource: binding.resource,
          scope: scope ?? grant.scope,
        })
      }
      case 'jwt_bearer': {
        const client = requirePreRegistered(binding)
        const assertion = await grant.assertion({ issuer: binding.issuer, resource: binding.resource })
        emit({ type: 'token', issuer: binding.issuer, grant: 'jwt_bearer' })
        return requestJwtBearer(await tokenContext(binding, client), {
          assertion,
          resource: binding.resource,
          scope: scope ?? grant.scope,
        })
      }
      case 'enterprise_managed': {
        const client = requirePreRegistered(binding)
        const idpClient: StoredClient = {
          issuer: grant.idp.token_endpoint,
          client_id: grant.idp.client_id,
          token_endpoint_auth_method: grant.idp.client_secret === undefined ? 'none' : 'client_secret_basic',
          source: 'pre-registered',
        }
        if (grant.idp.client_secret !== undefined) idpClient.client_secret = grant.idp.client_secret
        emit({ type: 'token', issuer: grant.idp.token_endpoint, grant: 'token_exchange' })
        const assertion = await exchangeForIdentityAssertion({
          tokenEndpoint: grant.idp.token_endpoint,
          client: idpClient,
          subjectToken: await grant.idToken(),
          audience: binding.issuer,
          resource: binding.resource,
          scope: scope ?? grant.scope,
          fetch: oauthFetch,
          policy,
        })
        emit({ type: 'token', issuer: binding.issuer, grant: 'jwt_bearer' })
        return requestJwtBearer(await tokenContext(binding, client), {
          assertion,
          resource: binding.resource,
          scope: scope ?? grant.scope,
        })
      }
    }
  }

  /**
   * Discovery (fresh when `rediscover`), then a grant. One at a time per server in this process;
   * a caller that finds newer tokens than the ones it sent uses them instead.
   */
  function authorize(
    key: string,
    hint: {
      challenge?: ResourceChallenge | undefined
      sentToken?: string | undefined
      stepUp?: boolean
      /** Log in even when usable tokens are stored. */
      force?: boolean
      rediscover: boolean
    },
  ): Promise<{ binding: ServerBinding; tokens: StoredTokens }> {
    return singleFlight(`login:${key}`, async () => {
      let binding = await store.getServer(key)
      if (binding !== undefined && hint.stepUp !== true && hint.force !== true) {
        const current = await usableTokens(binding)
        if (current !== undefined && current.access_token !== hint.sentToken)
          return { binding, tokens: current }
      }
      if (binding === undefined || hint.rediscover) binding = await discover(key, hint.challenge)
      let scopes: string[]
      if (hint.stepUp) {
        const previous = await store.getTokens(binding.issuer, binding.resource)
        scopes = stepUpScopes({
          previous: previous?.requested_scope,
          challengeScope: hint.challenge?.scope,
          resourceScopes: binding.scopes_supported,
          serverScopes: binding.authorization_server.scopes_supported,
          offlineAccess: wantRefresh,
        })
        emit({ type: 'step-up', issuer: binding.issuer, scope: serializeScope(scopes) })
      } else {
        scopes = initialScopes({
          challengeScope: hint.challenge?.scope,
          resourceScopes: binding.scopes_supported,
          serverScopes: binding.authorization_server.scopes_supported,
          offlineAccess: wantRefresh,
        })
      }
      const tokens = await obtainTokens(binding, scopes)
      await store.setTokens(tokens)
      return { binding, tokens }
    })
  }

  /**
   * Refreshes the tokens of a binding, once at a time per (issuer, resource) in this process and,
   * through the store's lock, across processes. The tokens are read again under the lock: when
   * another caller already refreshed, its result is used and the rotated refresh token is not
   * spent twice. Resolves `undefined` when a new login is needed.
   */
  function refresh(binding: ServerBinding, sentToken: string): Promise<StoredTokens | undefined> {
    const key = `refresh:${binding.issuer}\u0000${binding.resource}`
    return singleFlight(key, () =>
      withLock(key, async () => {
        const current = await usableTokens(binding)
        if (current === undefined) return undefined
        if (current.access_token !== sentToken && !expiringSoon(current, clock(), skew)) return current
        if (current.refresh_token === undefined) return undefined
        let client: StoredClient
        try {
          client = await resolveClient(binding, undefined, false)
        } catch (error) {
          if (error instanceof ClientError && error.code === 'ERR_NO_CLIENT_ID') return undefined
          throw error
        }
        emit({ type: 'refresh', issuer: binding.issuer })
        try {
          const next = await refreshAccessToken(await tokenContext(binding, client), current)
          await store.setTokens(next)
          return next
        } catch (error) {
          if (error instanceof ClientError && error.oauthError === 'invalid_grant') {
            // The refresh token is spent or revoked: log in again (once, by the caller).
            await store.deleteTokens(binding.issuer, binding.resource)
            return undefined
          }
          if (
            error instanceof ClientError &&
            error.oauthError === 'invalid_client' &&
            client.source === 'dynamic'
          ) {
            await store.deleteTokens(binding.issuer, binding.resource)
            await store.deleteClient(binding.issuer)
            return undefined
          }
          throw error
        }
      }),
    )
  }

  /** The tokens to send now, refreshed ahead of expiry. */
  async function currentTokens(
    key: string,
  ): Promise<{ binding: ServerBinding; tokens: StoredTokens | undefined } | undefined> {
    const binding = await store.getServer(key)
    if (binding === undefined) return undefined
    let tokens = await usableTokens(binding)
    if (tokens !== undefined && expiringSoon(tokens, clock(), skew) && tokens.refresh_token !== undefined) {
      tokens = await refresh(binding, tokens.access_token)
    }
    return { binding, tokens }
  }

  async function send(request: PreparedRequest, tokens: StoredTokens | undefined): Promise<Response> {
    if (tokens === undefined) {
      return transport(request.url, {
        ...request.init,
        method: request.method,
        headers: request.headers,
        body: request.body ?? null,
      })
    }
    const url = new URL(request.url)
    // Tokens travel over TLS only; plain http only to this machine.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      throw new ClientError('ERR_INSECURE_URL', 'refusing to send a token without TLS')
    }
    const headers = new Headers(request.headers)
    if (tokens.token_type === 'DPoP') {
      headers.delete('authorization')
      try {
        return await oauth.protectedResourceRequest(
          tokens.access_token,
          request.method,
          url,
          headers,
          request.body as oauth.ProtectedResourceRequestBody,
          {
            DPoP: await dpop(),
            [oauth.customFetch]: (target, init) => transport(target, init as RequestInit),
            [oauth.allowInsecureRequests]: url.protocol === 'http:',
            ...(request.init.signal ? { signal: request.init.signal } : {}),
          },
        )
      } catch (error) {
        if (error instanceof oauth.WWWAuthenticateChallengeError) return error.response
        throw error
      }
    }
    headers.set('authorization', `Bearer ${tokens.access_token}`)
    return transport(request.url, {
      ...request.init,
      method: request.method,
      headers,
      body: request.body ?? null,
    })
  }

  async function authorizedFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const request = await prepareRequest(input, init)
    const key = serverKey(request.url)
    const op: Operation = { attempts: 0, refreshed: false, reauthorized: false, nonceRetried: false }
    let known = await currentTokens(key)
    for (;;) {
      const tokens = known?.tokens
      const response = await send(request, tokens)
      const { action, challenge } = interpretChallenge(response, tokens !== undefined)
      if (action === 'ok' || action === 'forbidden') return response
      if (action === 'dpop-nonce' && !op.nonceRetried) {
        op.nonceRetried = true
        await response.body?.cancel().catch(() => {})
        continue
      }
      if (action === 'dpop-nonce') return response
      await response.body?.cancel().catch(() => {})
      if (action === 'refresh' && tokens !== undefined && known !== undefined) {
        if (!op.refreshed && tokens.refresh_token !== undefined) {
          op.refreshed = true
          const next = await refresh(known.binding, tokens.access_token)
          if (next !== undefined) {
            known = { binding: known.binding, tokens: next }
            continue
          }
        }
        if (op.reauthorized) {
          throw new ClientError('ERR_UNAUTHORIZED', 'the MCP server refused a fresh token', {
            status: response.status,
          })
        }
      }
      if (action === 'step-up') {
        if (op.attempts >= maxAttempts) {
          throw new ClientError('ERR_STEP_UP_LIMIT', 'the MCP server keeps asking for more scopes', {
            status: response.status,
            detail: `gave up after ${op.attempts} authorization attempts`,
          })
        }
        op.attempts++
        known = await authorize(key, {
          challenge,
          sentToken: tokens?.access_token,
          stepUp: true,
          rediscover: false,
        })
        continue
      }
      // 401: discover afresh (the resource may have moved to another authorization server) and authorize.
      if (op.attempts >= maxAttempts || op.reauthorized) {
        throw new ClientError('ERR_UNAUTHORIZED', 'the MCP server refused authorization', {
          status: response.status,
          detail: `gave up after ${op.attempts} authorization attempts`,
        })
      }
      op.attempts++
      op.reauthorized = true
      known = await authorize(key, { challenge, sentToken: tokens?.access_token, rediscover: true })
    }
  }

  async function status(serverUrl: string): Promise<McpAuthStatus> {
    const key = serverKey(serverUrl)
    const binding = await store.getServer(key)
    if (binding === undefined) return { serverUrl: key, loggedIn: false, refreshable: false }
    const tokens = await usableTokens(binding)
    const out: McpAuthStatus = {
      serverUrl: key,
      loggedIn: tokens !== undefined,
      issuer: binding.issuer,
      resource: binding.resource,
      refreshable: tokens?.refresh_token !== undefined,
    }
    if (tokens?.scope !== undefined) out.scope = tokens.scope
    if (tokens?.expires_at !== undefined) out.expiresAt = tokens.expires_at
    return out
  }

  async function probe(key: string): Promise<ResourceChallenge | undefined> {
    try {
      const response = await transport(key, { method: 'GET', headers: { accept: 'text/event-stream' } })
      await response.body?.cancel().catch(() => {})
      return response.status === 401 ? readResourceChallenge(response.headers) : undefined
    } catch {
      return undefined
    }
  }

  return {
    fetch: authorizedFetch,
    async login(serverUrl) {
      const key = serverKey(serverUrl)
      const challenge = await probe(key)
      await authorize(key, { challenge, rediscover: true, force: true })
      return status(key)
    },
    async logout(serverUrl) {
      const key = serverKey(serverUrl)
      const binding = await store.getServer(key)
      if (binding === undefined) return { revoked: false }
      const tokens = await store.getTokens(binding.issuer, binding.resource)
      let revoked = false
      if (tokens !== undefined && binding.authorization_server.revocation_endpoint !== undefined) {
        try {
          const client = await resolveClient(binding, undefined, false)
          const ctx = await tokenContext(binding, client)
          if (tokens.refresh_token !== undefined) {
            revoked = await revokeToken(ctx, tokens.refresh_token, 'refresh_token')
          }
          revoked = (await revokeToken(ctx, tokens.access_token, 'access_token')) || revoked
        } catch (error) {
          if (!(error instanceof ClientError)) throw error
          revoked = false
        }
      }
      await store.deleteTokens(binding.issuer, binding.resource)
      await store.deleteServer(key)
      emit({ type: 'logout', issuer: binding.issuer, revoked })
      return { revoked }
    },
    status,
    async token(serverUrl, tokenOptions = {}) {
      const key = serverKey(serverUrl)
      let known = await currentTokens(key)
      if (known?.tokens === undefined && tokenOptions.interactive === true) {
        const challenge = await probe(key)
        known = await authorize(key, { challenge, rediscover: true })
      }
      const tokens = known?.tokens
      return tokens === undefined
        ? undefined
        : { access_token: tokens.access_token, token_type: tokens.token_type }
    },
  }
}
