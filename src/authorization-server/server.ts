/**
 * `createAuthorizationServer`: the embedded OAuth 2.1 authorization server for MCP, as one
 * `fetch(request) → Response` handler (built on Hono) plus administration functions.
 *
 * @module
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import type { ClientInformation, ClientMetadata } from '../protocol/client-metadata.js'
import { OAuthError } from '../protocol/errors.js'
import { randomToken } from '../protocol/random.js'
import { StorageError } from '../storage/errors.js'
import { consoleAudit, createAuditEmitter } from './audit.js'
import { createClientAuthenticator } from './clients/authenticate-client.js'
import { createCimdResolver } from './clients/cimd.js'
import { createClientRegistration } from './clients/dcr.js'
import { createClientFinder } from './clients/find-client.js'
import { createStaticClients } from './clients/static.js'
import type { Endpoints, ServerContext } from './context.js'
import { createCsrf } from './csrf.js'
import { materialized } from './deferred-response.js'
import { webSha256 } from './digest.js'
import { handleAuthorize } from './endpoints/authorize.js'
import { handleConsent, handleLogin, handleUpstreamCallback } from './endpoints/interaction.js'
import { handleIntrospect } from './endpoints/introspect.js'
import { handleJwks } from './endpoints/jwks.js'
import { buildMetadata, handleMetadata, metadataPaths } from './endpoints/metadata.js'
import { handleRegister } from './endpoints/register.js'
import { handleRevoke } from './endpoints/revoke.js'
import { grantTable, handleToken } from './endpoints/token.js'
import { AuthorizationServerError } from './errors.js'
import { createJwtBearerGrant } from './grants/jwt-bearer.js'
import { jsonResponse, NO_STORE } from './http.js'
import { createKeyManager, type RotateKeysOptions } from './keys.js'
import {
  type AuthorizationServerOptions,
  resolveLifetimes,
  resolveRegistration,
  resolveResources,
  validateCookieSecret,
  validateIssuer,
  validateLogin,
} from './options.js'
import { STYLESHEET_PATH, stylesheetResponse } from './pages/index.js'
import { renderError } from './render.js'
import { createSessionCookies } from './session.js'
import { webJwtSigner } from './tokens.js'

/** What {@link createAuthorizationServer} returns. */
export interface AuthorizationServer {
  /** The request handler: mount it on any runtime (Hono, Workers, Deno, Bun, or the Node adapter). */
  fetch(request: Request): Promise<Response>
  /** The metadata document (RFC 8414). */
  metadata(): AuthorizationServerMetadata
  /** Makes sure a signing key exists (otherwise created on first use). */
  ready(): Promise<void>
  /**
   * Registers a client that never expires (an administrator's pre-registration kept in the store).
   * Returns the client information, with a generated `client_secret` for secret-based methods.
   * Throws `AuthorizationServerError` `ERR_CLIENT_EXISTS` or `ERR_INVALID_CLIENT_METADATA`.
   */
  registerClient(
    metadata: ClientMetadata & { client_id?: string; client_secret?: string },
  ): Promise<ClientInformation>
  /** Deletes a client kept in the store. `true` when one was deleted. */
  deleteClient(clientId: string): Promise<boolean>
  /** Adds a new signing key; see {@link RotateKeysOptions}. */
  rotateKeys(options?: RotateKeysOptions): Promise<{ kid: string; activates_at: number }>
  /** Revokes a grant and every token issued under it. `true` when it was active. */
  revokeGrant(grantId: string): Promise<boolean>
}

/** `Retry-After` of the 503 answered while the store cannot be reached. */
const STORE_RETRY_AFTER_SECONDS = 5

function endpointsFor(issuer: string): { endpoints: Endpoints; paths: Endpoints; basePath: string } {
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer
  const basePath = new URL(issuer).pathname.replace(/\/$/, '')
  const names = {
    authorization: '/authorize',
    token: '/token',
    registration: '/register',
    revocation: '/revoke',
    introspection: '/introspect',
    jwks: '/jwks',
    login: '/interaction/login',
    consent: '/interaction/consent',
  } as const
  const endpoints = {} as Endpoints
  const paths = {} as Endpoints
  for (const [key, path] of Object.entries(names) as [keyof Endpoints, string][]) {
    endpoints[key] = `${base}${path}`
    paths[key] = `${basePath}${path}`
  }
  return { endpoints, paths, basePath }
}

function lastForwardedFor(request: Request): string | undefined {
  const header = request.headers.get('x-forwarded-for')
  if (header === null) return undefined
  const last = header.split(',').at(-1)?.trim()
  return last === undefined || last === '' ? undefined : last
}

/**
 * Creates the authorization server. Throws `AuthorizationServerError` `ERR_INVALID_OPTIONS` at once
 * when an essential option is missing or wrong (fail closed at construction).
 *
 * @example
 * ```ts
 * const as = createAuthorizationServer({
 *   issuer: 'https://auth.example.com',
 *   store: await createSqliteStore({ filename: 'auth.db', encryptionKey }),
 *   resources: [{ uri: 'https://mcp.example.com/mcp', scopes: { 'mcp:tools': 'Use the tools' } }],
 *   login: localAccounts({ users: [{ username: 'ada', passwordHash }] }),
 *   cookieSecret,
 * })
 * ```
 *
 * @see [MCP Authorization](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization)
 * @see [OAuth 2.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13)
 */
export function createAuthorizationServer(options: AuthorizationServerOptions): AuthorizationServer {
  if (typeof options !== 'object' || options === null) {
    throw new AuthorizationServerError('ERR_INVALID_OPTIONS', 'options are required')
  }
  const issuer = validateIssuer(options.issuer)
  const store = options.store
  if (typeof store !== 'object' || store === null || typeof store.codes?.consume !== 'function') {
    throw new AuthorizationServerError('ERR_INVALID_OPTIONS', 'store is required')
  }
  const resources = resolveResources(options.resources)
  const login = validateLogin(options.login)
  validateCookieSecret(options.cookieSecret)
  const lifetimes = resolveLifetimes(options.lifetimes)
  const registration = resolveRegistration(options.registration)
  const now = options.clock ?? Date.now
  let defaultResource: ServerContext['defaultResource']
  if (options.defaultResource !== undefined) {
    defaultResource = resources.find((r) => r.uri === options.defaultResource)
    if (defaultResource === undefined) {
      throw new AuthorizationServerError(
        'ERR_INVALID_OPTIONS',
        'defaultResource must be one of resources[].uri',
      )
    }
  }
  const idJagIssuers = options.idJag?.issuers ?? []
  for (const i of idJagIssuers) {
    if (
      typeof i.issuer !== 'string' ||
      (i.jwks === undefined && (i.jwksUri === undefined || options.fetch === undefined))
    ) {
      throw new AuthorizationServerError(
        'ERR_INVALID_OPTIONS',
        'each idJag issuer needs jwks, or jwksUri with fetch',
      )
    }
  }
  const statics = createStaticClients(options.clients)
  const secure = new URL(issuer).protocol === 'https:'
  const { endpoints, paths, basePath } = endpointsFor(issuer)
  const cimdOptions = options.cimd === undefined || options.cimd === false ? undefined : options.cimd
  const cimdResolve = cimdOptions === undefined ? undefined : createCimdResolver(cimdOptions, { store, now })
  const getClientAddress = options.getClientAddress
  const trustProxy = options.trustProxy === true

  const ctx: ServerContext = {
    issuer,
    basePath,
    endpoints,
    paths,
    store,
    now,
    lifetimes,
    resources,
    defaultResource,
    login,
    registration,
    cimd:
      cimdOptions === undefined || cimdResolve === undefined
        ? undefined
        : { ...cimdOptions, resolve: cimdResolve },
    rememberConsent: options.rememberConsent !== false,
    audit: createAuditEmitter(options.onAudit ?? consoleAudit),
    keys: createKeyManager(store, {
      accessTokenMs: lifetimes.accessToken,
      cacheMs: options.keyCacheMs ?? 30_000,
    }),
    csrf: createCsrf({ secret: options.cookieSecret, secure }),
    session: createSessionCookies({ secret: options.cookieSecret, secure, lifetimeMs: lifetimes.session }),
    secure,
    fetch: options.fetch,
    idJagIssuers,
    sha256: options.sha256 ?? webSha256,
    signJwt: options.signJwt ?? webJwtSigner,
    randomToken: options.randomToken ?? randomToken,
    clientAddress(request) {
      return (trustProxy ? lastForwardedFor(request) : undefined) ?? getClientAddress?.(request) ?? 'unknown'
    },
    findClient: createClientFinder({ statics, store, now, cimd: cimdResolve }),
  }

  const authenticate = createClientAuthenticator(ctx)
  const grants = grantTable(idJagIssuers.length > 0 ? createJwtBearerGrant(ctx) : undefined)

  const app = new Hono()
  // Endpoints a browser-based MCP client calls with fetch: no cookies, so any origin may read them.
  const api = cors({
    origin: '*',
    allowMethods: ['GET', 'POST', 'OPTIONS'],
    allowHeaders: ['authorization', 'content-type'],
    maxAge: 600,
  })
  // MCP clients send `MCP-Protocol-Version` on discovery requests (MCP transports, Protocol
  // Version Header), so a browser preflights the metadata GET for it.
  const metadataCors = cors({
    origin: '*',
    allowMethods: ['GET', 'OPTIONS'],
    allowHeaders: ['mcp-protocol-version'],
    maxAge: 600,
  })
  // The POST endpoints answer `no-store`, so no cache can hand a header-less answer to a browser:
  // requests without `Origin` (not from a browser) skip the CORS headers and their cost.
  const postApi: MiddlewareHandler = (c, next) =>
    c.req.raw.headers.get('origin') === null && c.req.method === 'POST' ? next() : api(c, next)
  for (const path of new Set(metadataPaths(issuer))) {
    app.use(path, metadataCors)
    app.get(path, () => handleMetadata(ctx))
  }
  app.use(paths.jwks, api)
  app.get(paths.jwks, () => handleJwks(ctx))
  app.get(paths.authorization, (c) => handleAuthorize(ctx, c.req.raw))
  app.post(paths.login, (c) => handleLogin(ctx, c.req.raw))
  app.post(paths.consent, (c) => handleConsent(ctx, c.req.raw))
  app.use(paths.token, postApi)
  app.post(paths.token, (c) => handleToken(ctx, c.req.raw, authenticate, grants))
  app.use(paths.revocation, postApi)
  app.post(paths.revocation, (c) => handleRevoke(ctx, c.req.raw, authenticate))
  app.use(paths.introspection, postApi)
  app.post(paths.introspection, (c) => handleIntrospect(ctx, c.req.raw, authenticate))
  if (registration.mode !== 'closed') {
    app.use(paths.registration, postApi)
    app.post(paths.registration, (c) => handleRegister(ctx, c.req.raw))
  }
  if ('upstream' in login) {
    app.get(`${basePath}${login.upstream.callbackPath}`, (c) => handleUpstreamCallback(ctx, c.req.raw))
  }
  app.get(STYLESHEET_PATH, () => stylesheetResponse())
  if (basePath !== '') app.get(`${basePath}${STYLESHEET_PATH}`, () => stylesheetResponse())
  app.notFound(() => jsonResponse({ error: 'not_found' }, 404, NO_STORE))
  app.onError((error, c) => {
    // No detail on the wire; the operator sees the error name only (it may quote inputs).
    console.error(
      JSON.stringify({
        portcullis: 'authorization-server',
        error: error.name,
        path: new URL(c.req.url).pathname,
      }),
    )
    const pages = [paths.authorization, paths.login, paths.consent]
    if ('upstream' in login) pages.push(`${basePath}${login.upstream.callbackPath}`)
    // The store is down or restarting: a retryable 503 (RFC 9110 §15.6.4), not a server fault.
    if (error instanceof StorageError && error.code === 'ERR_STORAGE_UNAVAILABLE') {
      const retry = { 'retry-after': String(STORE_RETRY_AFTER_SECONDS) }
      if (pages.includes(c.req.path)) {
        const page = renderError(
          503,
          'Temporarily unavailable',
          'The service is busy. Try again in a moment.',
        )
        page.headers.set('retry-after', retry['retry-after'])
        return page
      }
      return jsonResponse(
        new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable').toJSON(),
        503,
        { ...NO_STORE, ...retry },
      )
    }
    if (pages.includes(c.req.path)) {
      return renderError(500, 'Something went wrong', 'The request could not be completed. Try again later.')
    }
    return jsonResponse(new OAuthError('server_error', 'internal error').toJSON(), 500, NO_STORE)
  })

  const server: AuthorizationServer = {
    fetch: async (request) => materialized(await app.fetch(request)),
    metadata: () => buildMetadata(ctx),
    async ready() {
      await ctx.keys.signingKey(now())
    },
    async registerClient(metadata) {
      const { client_id, client_secret, ...rest } = metadata
      if (client_id !== undefined) {
        if (
          (await statics.get(client_id)) !== undefined ||
          (await store.clients.get(client_id, now())) !== undefined
        ) {
          throw new AuthorizationServerError('ERR_CLIENT_EXISTS', 'a client with this client_id exists')
        }
      }
      let created: Awaited<ReturnType<typeof createClientRegistration>>
      try {
        created = await createClientRegistration(rest, {
          kind: 'static',
          now: now(),
          allowJwksUri: ctx.fetch !== undefined,
          ...(client_id === undefined ? {} : { clientId: client_id }),
          ...(client_secret === undefined ? {} : { clientSecret: client_secret }),
        })
      } catch (error) {
        if (error instanceof OAuthError) {
          throw new AuthorizationServerError('ERR_INVALID_CLIENT_METADATA', error.description ?? error.code, {
            cause: error,
          })
        }
        throw error
      }
      await store.clients.put(created.record)
      ctx.audit({ type: 'client.registered', at: now(), client_id: created.record.client_id, kind: 'static' })
      return created.response
    },
    deleteClient: (clientId) => store.clients.delete(clientId),
    rotateKeys: (rotateOptions) => ctx.keys.rotate(now(), rotateOptions),
    async revokeGrant(grantId) {
      const revoked = await store.grants.revoke(grantId, now())
      if (revoked) ctx.audit({ type: 'grant.revoked', at: now(), grant_id: grantId, reason: 'admin' })
      return revoked
    },
  }
  adapterFetches.set(server, async (request) => app.fetch(request))
  return server
}

const adapterFetches = new WeakMap<AuthorizationServer, (request: Request) => Promise<Response>>()

/**
 * The request handler for a server adapter that writes answers itself: JSON answers may be
 * deferred responses (see `deferred-response.ts`), read with `bufferedText`. Anything else should
 * use `fetch`, which always answers a genuine `Response`.
 */
export function adapterFetch(server: AuthorizationServer): (request: Request) => Promise<Response> {
  return adapterFetches.get(server) ?? server.fetch
}
