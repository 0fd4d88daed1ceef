/**
 * Test support for the proxy: a real upstream identity provider (node-oidc-provider 8.8.1 on
 * 127.0.0.1 with one static client and an auto-login interaction), the proxy served over HTTP on
 * 127.0.0.1, an MCP server (SDK v1) behind our resource server whose tool calls the provider with
 * the upstream token, and a browser-like driver (cookie jar, Fetch Metadata, manual redirects).
 * Nothing here talks to anything but loopback.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import type { AuditEvent } from '../../src/authorization-server/index.js'
import {
  expressAuth,
  expressMetadata,
  jwtVerifier,
  protectedResource,
  toNodeHandler,
} from '../../src/node/index.js'
import { computeCodeChallenge, generateCodeVerifier } from '../../src/protocol/pkce.js'
import {
  createOAuthProxy,
  type OAuthProxy,
  type OAuthProxyOptions,
  type UpstreamOptions,
} from '../../src/proxy/index.js'
import { createMemoryStore } from '../../src/storage/index.js'
import type { Store } from '../../src/storage/types.js'

export const UPSTREAM_CLIENT_ID = 'portcullis-proxy'
export const UPSTREAM_CLIENT_SECRET = 'upstream-secret-do-not-leak-0123456789abcdef'
export const UPSTREAM_ACCOUNT = 'alice-at-idp'
export const COOKIE_SECRET = 'proxy-test-cookie-secret-0123456789abcdef'
export const CLIENT_REDIRECT = 'http://127.0.0.1:47123/callback'

/** A listening HTTP server on 127.0.0.1 whose handler can be set after the port is known. */
export interface Listening {
  origin: string
  server: Server
  close(): Promise<void>
}

export async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void | Promise<void>,
): Promise<Listening> {
  const server = createServer((req, res) => {
    void handler(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** The upstream identity provider: node-oidc-provider with one static confidential client. */
export interface UpstreamIdp {
  issuer: string
  /** Paths requested at the provider, in order (`/auth`, `/token`, ...). */
  requests: string[]
  /** The provider's private signing key (to forge tokens "issued by the provider" in tests). */
  signingKey: JWK
  // biome-ignore lint/suspicious/noExplicitAny: oidc-provider ships no types.
  provider: any
  close(): Promise<void>
}

/** Starts node-oidc-provider 8.8.1 on 127.0.0.1 as the "third-party" IdP. */
export async function startUpstreamIdp(options: {
  redirectUri: string
  accessTokenTtl?: number
  account?: string
}): Promise<UpstreamIdp> {
  // A variable specifier: oidc-provider ships no types.
  const pkg: string = 'oidc-provider-8'
  // biome-ignore lint/suspicious/noExplicitAny: oidc-provider ships no types.
  const mod: any = await import(pkg)
  const Provider = mod.default ?? mod.Provider
  const requests: string[] = []
  let handler: ((req: IncomingMessage, res: ServerResponse) => void) | undefined
  const listening = await listen((req, res) => {
    requests.push(new URL(req.url ?? '/', 'http://x').pathname)
    handler?.(req, res)
  })
  const issuer = listening.origin
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const signingKey = { ...(await exportJWK(privateKey)), kid: 'idp-es256', alg: 'ES256', use: 'sig' }
  const account = options.account ?? UPSTREAM_ACCOUNT
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: UPSTREAM_CLIENT_ID,
        client_secret: UPSTREAM_CLIENT_SECRET,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
        id_token_signed_response_alg: 'ES256',
      },
    ],
    jwks: { keys: [signingKey] },
    cookies: { keys: ['upstream-idp-cookie-key-0123456789abcdef'] },
    findAccount: async (_ctx: unknown, sub: string) => ({
      accountId: sub,
      claims: async () => ({ sub, name: 'Alice Upstream', email: 'alice@idp.test' }),
    }),
    claims: { openid: ['sub'], profile: ['name'], email: ['email'] },
    pkce: { required: () => true, methods: ['S256'] },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      introspection: { enabled: true },
    },
    ttl: {
      AccessToken: options.accessTokenTtl ?? 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      RefreshToken: 86_400,
      Grant: 86_400,
      Session: 86_400,
    },
    // biome-ignore lint/suspicious/noExplicitAny: oidc-provider ships no types.
    issueRefreshToken: async (_ctx: unknown, client: any) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: true,
  })
  provider.on('server_error', (_ctx: unknown, error: Error) => console.error('idp server_error', error))
  // The provider's login and consent, automated: the user is always `account` and approves. Its
  // session then makes every later authorization silent, which is the confused-deputy premise.
  // biome-ignore lint/suspicious/noExplicitAny: koa context.
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(ctx.req, ctx.res)
      const { params } = details
      const accountId = details.session?.accountId ?? account
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: params.client_id })
      grant.addOIDCScope(String(params.scope ?? 'openid'))
      const grantId = await grant.save()
      const to = await provider.interactionResult(
        ctx.req,
        ctx.res,
        { login: { accountId }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      )
      ctx.status = 303
      ctx.redirect(to)
      return
    }
    await next()
  })
  handler = provider.callback()
  return { issuer, requests, signingKey, provider, close: listening.close }
}

/** The upstream options for the test IdP (OIDC discovery, ID Token identity). */
export function testUpstream(issuer: string, overrides: Partial<UpstreamOptions> = {}): UpstreamOptions {
  return {
    name: 'Test IdP',
    issuer,
    clientId: UPSTREAM_CLIENT_ID,
    clientSecret: UPSTREAM_CLIENT_SECRET,
    scopes: ['openid', 'profile', 'email'],
    identity: { from: 'id_token' },
    allowInsecureLoopback: true,
    ...overrides,
  }
}

/** The proxy over HTTP on 127.0.0.1, its upstream IdP, and what they record. */
export interface ProxyWorld {
  proxy: OAuthProxy
  issuer: string
  resource: string
  idp: UpstreamIdp
  store: Store
  events: AuditEvent[]
  clock: { offset: number }
  /** The MCP server's endpoint, when started with `mcp: true`. */
  mcpUrl?: string
  close(): Promise<void>
}

/**
 * Starts the upstream IdP and the proxy. `resource` is the MCP endpoint the proxy issues tokens
 * for (an MCP server started later may take its place: pass its URL).
 */
export async function startProxyWorld(
  options: {
    resource?: string
    /** Overrides of the upstream options; a function receives the provider's issuer. */
    upstream?: Partial<UpstreamOptions> | ((idpIssuer: string) => Partial<UpstreamOptions>)
    proxy?: Partial<OAuthProxyOptions>
    accessTokenTtl?: number
    /** Also start the MCP server; it becomes the proxy's resource. */
    mcp?: boolean
  } = {},
): Promise<ProxyWorld> {
  let proxy: OAuthProxy | undefined
  const listening = await listen(toNodeHandler((request) => proxy!.fetch(request)))
  const issuer = listening.origin
  const idp = await startUpstreamIdp({
    redirectUri: `${issuer}/upstream/callback`,
    ...(options.accessTokenTtl === undefined ? {} : { accessTokenTtl: options.accessTokenTtl }),
  })
  const store = await createMemoryStore({ encryptionKey: 'proxy-test-encryption-key-0123456789abcdefgh' })
  const events: AuditEvent[] = []
  const clock = { offset: 0 }
  const mcp = options.mcp === true ? await startMcpServer(() => proxy!, issuer, idp.issuer) : undefined
  const resource = mcp?.url ?? options.resource ?? 'http://127.0.0.1:47999/mcp'
  proxy = createOAuthProxy({
    issuer,
    store,
    resources: [{ uri: resource, name: 'Demo MCP', scopes: { 'mcp:tools': 'Use the tools' } }],
    cookieSecret: COOKIE_SECRET,
    upstream: testUpstream(
      idp.issuer,
      typeof options.upstream === 'function' ? options.upstream(idp.issuer) : options.upstream,
    ),
    clock: () => Date.now() + clock.offset,
    onAudit: (event) => {
      events.push(event)
    },
    ...options.proxy,
  })
  return {
    proxy,
    issuer,
    resource,
    idp,
    store,
    events,
    clock,
    ...(mcp === undefined ? {} : { mcpUrl: mcp.url }),
    async close() {
      await mcp?.close()
      await listening.close()
      await idp.close()
    },
  }
}

/** A minimal browser: one cookie jar for 127.0.0.1 (cookies ignore ports), Fetch Metadata, manual redirects. */
export class TestBrowser {
  readonly cookies = new Map<string, string>()

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const expires = /expires=([^;]+)/i.exec(line)?.[1]
      const gone =
        value === '' || /max-age=0/i.test(line) || (expires !== undefined && Date.parse(expires) < Date.now())
      if (gone) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }

  cookieHeader(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }

  /** One request as a browser sends it: cookies, `Sec-Fetch-Site`, no redirect following. */
  async request(
    url: string,
    init: { method?: string; form?: Record<string, string>; site?: string; cookies?: boolean } = {},
  ): Promise<Response> {
    const headers = new Headers()
    if (init.cookies !== false && this.cookies.size > 0) headers.set('cookie', this.cookieHeader())
    if (init.site !== undefined) headers.set('sec-fetch-site', init.site)
    let body: string | undefined
    if (init.form !== undefined) {
      headers.set('content-type', 'application/x-www-form-urlencoded')
      body = new URLSearchParams(init.form).toString()
    }
    const response = await fetch(url, {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      redirect: 'manual',
      ...(body === undefined ? {} : { body }),
    })
    this.store(response)
    return response
  }

  /**
   * Follows redirects from `response` while they stay on one of `origins`; returns the first
   * response that is not a redirect, or the redirect that leaves (`location` set).
   */
  async follow(
    response: Response,
    from: string,
    origins: string[],
  ): Promise<{ response: Response; location?: URL }> {
    let current = response
    let base = from
    for (let hops = 0; hops < 20; hops++) {
      const raw = current.headers.get('location')
      if (current.status < 300 || current.status >= 400 || raw === null) return { response: current }
      const next = new URL(raw, base)
      if (!origins.includes(next.origin)) return { response: current, location: next }
      await current.body?.cancel()
      current = await this.request(next.href, { site: 'cross-site' })
      base = next.href
    }
    throw new Error('too many redirects')
  }
}

/** The value of a hidden input in a page. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
  if (match === null) throw new Error(`no field ${name}`)
  return match[1]!.replace(/&amp;/g, '&')
}

/** Registers a public native client by DCR at the proxy. */
export async function registerClient(
  issuer: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const response = await fetch(`${issuer}/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: 'Test MCP client',
      application_type: 'native',
      redirect_uris: [CLIENT_REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
      ...extra,
    }),
  })
  return { status: response.status, body: (await response.json()) as Record<string, unknown> }
}

/** An authorization URL at the proxy. */
export function authorizeUrl(issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL(`${issuer}/authorize`)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  return url.href
}

/**
 * Drives a whole authorization through the proxy like a browser: GET /authorize (opened by the
 * MCP client: `Sec-Fetch-Site: none`), approve the consent page (CSRF + cookie), follow to the
 * IdP and back to the proxy's callback (with the binding cookie), and returns the redirect to the
 * client's redirect URI.
 */
export async function approveInBrowser(
  world: { issuer: string; idp: { issuer: string } },
  browser: TestBrowser,
  url: string,
  options: { decision?: 'approve' | 'deny'; remember?: boolean; site?: string } = {},
): Promise<{ location: URL; consentShown: boolean }> {
  const first = await browser.request(url, { site: options.site ?? 'none' })
  const origins = [world.issuer, world.idp.issuer]
  if (first.status === 303 || first.status === 302) {
    const { location } = await browser.follow(first, url, origins)
    if (location === undefined) throw new Error('no redirect out of the proxy')
    return { location, consentShown: false }
  }
  const html = await first.text()
  if (first.status !== 200) throw new Error(`consent page: ${first.status} ${html}`)
  const form: Record<string, string> = {
    transaction: hiddenField(html, 'transaction'),
    csrf: hiddenField(html, 'csrf'),
    decision: options.decision ?? 'approve',
  }
  if (options.remember === true) form['remember'] = 'on'
  const posted = await browser.request(`${world.issuer}/interaction/consent`, { site: 'same-origin', form })
  const { location, response } = await browser.follow(posted, `${world.issuer}/interaction/consent`, origins)
  if (location === undefined)
    throw new Error(`no redirect to the client: ${response.status} ${await response.text()}`)
  return { location, consentShown: true }
}

/** An MCP server (SDK v1 + Express) behind our resource server, with one tool that uses the upstream token. */
export async function startMcpServer(
  getProxy: () => OAuthProxy,
  issuer: string,
  idpIssuer: string,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = express()
  const listening = await listen((req, res) => {
    app(req, res)
  })
  const url = `${listening.origin}/mcp`
  const rs = protectedResource({
    resource: url,
    authorizationServers: [issuer],
    verifier: jwtVerifier({
      issuer,
      audience: url,
      jwksUri: `${issuer}/jwks`,
      safeFetch: { allowLoopback: true },
    }),
    scopes: { default: ['mcp:tools'] },
  })
  app.use(expressMetadata(rs))
  app.post('/mcp', express.json(), expressAuth(rs), async (req, res) => {
    const server = new McpServer({ name: 'proxy-test', version: '1.0.0' })
    server.registerTool(
      'whoami',
      { description: 'Who the upstream provider says the caller is' },
      async (extra) => {
        const proxy = getProxy()
        const auth = extra.authInfo!
        const identity = await proxy.upstreamIdentityFor(auth)
        // The tool calls the provider's API with the upstream token, never with the client's token.
        const upstream = await proxy.upstreamTokenFor(auth)
        const userinfo = await fetch(`${idpIssuer}/me`, {
          headers: { authorization: `Bearer ${upstream.access_token}` },
        })
        const claims = (await userinfo.json()) as Record<string, unknown>
        const tokenClaims = (auth.extra?.['claims'] ?? {}) as Record<string, unknown>
        return {
          content: [
            {
              type: 'text',
              text: JSON.stringify({
                sub: auth.extra?.['subject'],
                upstream_sub: tokenClaims['upstream_sub'],
                upstream_iss: tokenClaims['upstream_iss'],
                identity,
                userinfo: { status: userinfo.status, sub: claims['sub'], name: claims['name'] },
              }),
            },
          ],
        }
      },
    )
    const transport = new StreamableHTTPServerTransport({})
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  return { url, close: listening.close }
}

/** What {@link flowThroughProxy} returns. */
export interface ProxyTokens {
  client_id: string
  access_token: string
  refresh_token: string
  expires_in: number
  scope: string
}

/**
 * Registers a client at the proxy, runs the authorization in the browser and redeems the code:
 * the MCP client's side done by hand.
 */
export async function flowThroughProxy(
  world: { issuer: string; resource: string; idp: { issuer: string } },
  browser: TestBrowser,
): Promise<ProxyTokens> {
  const registered = await registerClient(world.issuer)
  if (registered.status !== 201) throw new Error(`registration: ${registered.status}`)
  const clientId = registered.body['client_id'] as string
  const verifier = generateCodeVerifier()
  const { location } = await approveInBrowser(
    world,
    browser,
    authorizeUrl(world.issuer, {
      response_type: 'code',
      client_id: clientId,
      redirect_uri: CLIENT_REDIRECT,
      code_challenge: await computeCodeChallenge(verifier),
      code_challenge_method: 'S256',
      resource: world.resource,
      state: 'client-state',
    }),
  )
  const code = location.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${location.href}`)
  const response = await fetch(`${world.issuer}/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: CLIENT_REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
      resource: world.resource,
    }).toString(),
  })
  if (response.status !== 200) throw new Error(`token: ${response.status} ${await response.text()}`)
  return { client_id: clientId, ...((await response.json()) as Omit<ProxyTokens, 'client_id'>) }
}
