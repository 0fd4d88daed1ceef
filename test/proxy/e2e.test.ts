/**
 * End to end with a real upstream identity provider (node-oidc-provider 8.8.1 on loopback): our
 * client library, through the proxy, to a protected MCP tool that calls the provider with the
 * upstream token. Then the upstream token lifecycle: refresh, revocation, decoupled lifetimes.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { decodeJwt } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import {
  createMcpAuthClient,
  createMemoryCredentialStore,
  type RedirectHandler,
} from '../../src/client/index.js'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import {
  approveInBrowser,
  CLIENT_REDIRECT,
  flowThroughProxy,
  type ProxyWorld,
  startProxyWorld,
  TestBrowser,
  UPSTREAM_ACCOUNT,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_CLIENT_SECRET,
} from './support.js'

let world: ProxyWorld | undefined

afterEach(async () => {
  await world?.close()
  world = undefined
})

function browserRedirect(w: ProxyWorld, browser: TestBrowser): RedirectHandler {
  return {
    async start() {
      return {
        redirectUri: CLIENT_REDIRECT,
        async authorize(url) {
          const { location } = await approveInBrowser(w, browser, url)
          expect(location.origin + location.pathname).toBe(CLIENT_REDIRECT)
          return location.searchParams
        },
        async close() {},
      }
    },
  }
}

async function introspectAtIdp(w: ProxyWorld, token: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${w.idp.issuer}/token/introspection`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${btoa(`${UPSTREAM_CLIENT_ID}:${UPSTREAM_CLIENT_SECRET}`)}`,
    },
    body: new URLSearchParams({ token }).toString(),
  })
  return (await response.json()) as Record<string, unknown>
}

describe('proxy end to end with node-oidc-provider upstream', () => {
  it('takes our client library through consent, the upstream login and back to a protected MCP tool', async () => {
    world = await startProxyWorld({ mcp: true, accessTokenTtl: 120 })
    const w = world
    const browser = new TestBrowser()
    const credentials = createMemoryCredentialStore()
    const auth = createMcpAuthClient({
      redirect: browserRedirect(w, browser),
      credentialStore: credentials,
      allowInsecureLoopback: true,
      clientMetadata: { client_name: 'E2E MCP client' },
    })
    const transport = new StreamableHTTPClientTransport(new URL(w.mcpUrl!), { fetch: auth.fetch })
    const client = new Client({ name: 'e2e', version: '1.0.0' })
    await client.connect(transport)
    const result = (await client.callTool({ name: 'whoami', arguments: {} })) as {
      content: { text: string }[]
    }
    await client.close()

    const answer = JSON.parse(result.content[0]!.text) as Record<string, unknown>
    // Our token names the upstream user; the tool reached the provider with the upstream token.
    expect(answer['sub']).toBe(UPSTREAM_ACCOUNT)
    expect(answer['upstream_sub']).toBe(UPSTREAM_ACCOUNT)
    expect(answer['upstream_iss']).toBe(w.idp.issuer)
    expect(answer['identity']).toMatchObject({ issuer: w.idp.issuer, subject: UPSTREAM_ACCOUNT })
    expect(answer['userinfo']).toEqual({ status: 200, sub: UPSTREAM_ACCOUNT, name: 'Alice Upstream' })

    // The client holds our token (aud = the MCP resource, iss = the proxy), never the upstream one.
    const status = await auth.status(w.mcpUrl!)
    expect(status.issuer).toBe(w.issuer)
    const token = await auth.token(w.mcpUrl!)
    const claims = decodeJwt(token!.access_token)
    expect(claims).toMatchObject({
      iss: w.issuer,
      aud: w.mcpUrl,
      sub: UPSTREAM_ACCOUNT,
      upstream_iss: w.idp.issuer,
    })
    // MCP-facing lifetime is ours (1 h), not the provider's 120 s.
    expect(claims.exp! - claims.iat!).toBe(3600)
    const grants = await w.store.grants.list({ subject: UPSTREAM_ACCOUNT })
    expect(grants).toHaveLength(1)
    const upstream = await w.store.upstreamTokens.get(grants[0]!.id, Date.now())
    expect(typeof upstream?.['access_token']).toBe('string')
    expect(token!.access_token).not.toBe(upstream?.['access_token'])
    // The upstream tokens are encrypted at rest.
    const snapshot = memoryStoreSnapshot(w.store)
    expect(snapshot).not.toContain(upstream?.['access_token'] as string)
    expect(snapshot).not.toContain(upstream?.['refresh_token'] as string)
    // The proxy did its own code flow: one authorization and one code exchange upstream.
    expect(w.idp.requests.filter((p) => p === '/auth')).toHaveLength(1)
    expect(w.idp.requests.filter((p) => p === '/token')).toHaveLength(1)
  })

  it('refreshes the upstream token when it expires, independently of our token, and revokes it upstream with the grant', async () => {
    world = await startProxyWorld({ mcp: true, accessTokenTtl: 300 })
    const w = world
    const browser = new TestBrowser()
    const auth = createMcpAuthClient({ redirect: browserRedirect(w, browser), allowInsecureLoopback: true })
    const transport = new StreamableHTTPClientTransport(new URL(w.mcpUrl!), { fetch: auth.fetch })
    const client = new Client({ name: 'e2e', version: '1.0.0' })
    await client.connect(transport)
    await client.callTool({ name: 'whoami', arguments: {} })
    await client.close()

    const [grant] = await w.store.grants.list({ subject: UPSTREAM_ACCOUNT })
    const before = (await w.store.upstreamTokens.get(grant!.id, Date.now()))!
    const ours = await auth.token(w.mcpUrl!)
    const claims = decodeJwt(ours!.access_token)
    const authInfo = { clientId: String(claims['client_id']), claims: claims as Record<string, unknown> }

    // Fresh upstream token: handed out as it is.
    const first = await w.proxy.upstreamTokenFor(authInfo)
    expect(first.access_token).toBe(before['access_token'])
    expect(first).not.toHaveProperty('refresh_token')

    // Five minutes later the upstream token (300 s) has expired; ours (1 h) has not.
    w.clock.offset = 300_000
    const refreshed = await w.proxy.upstreamTokenFor(authInfo)
    expect(refreshed.access_token).not.toBe(first.access_token)
    expect(w.idp.requests.filter((p) => p === '/token')).toHaveLength(2)
    const after = (await w.store.upstreamTokens.get(grant!.id, Date.now() + 300_000))!
    // Rotated upstream: the new refresh token replaced the spent one.
    expect(after['refresh_token']).not.toBe(before['refresh_token'])
    expect((await introspectAtIdp(w, refreshed.access_token))['active']).toBe(true)

    // Ending the grant deletes the upstream tokens and revokes them at the provider (RFC 7009).
    expect(await w.proxy.revokeGrant(grant!.id)).toBe(true)
    expect(await w.store.upstreamTokens.get(grant!.id, Date.now())).toBeUndefined()
    expect((await introspectAtIdp(w, after['refresh_token'] as string))['active']).toBe(false)
    await expect(w.proxy.upstreamTokenFor(authInfo)).rejects.toMatchObject({ code: 'ERR_NO_UPSTREAM_TOKEN' })
    expect(w.idp.requests).toContain('/token/revocation')
  })

  it('revokes upstream when the MCP client revokes its refresh token at our revocation endpoint', async () => {
    world = await startProxyWorld()
    const w = world
    const tokens = await flowThroughProxy(w, new TestBrowser())
    const [grant] = await w.store.grants.list({ subject: UPSTREAM_ACCOUNT })
    const upstream = (await w.store.upstreamTokens.get(grant!.id, Date.now()))!
    const response = await fetch(`${w.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.refresh_token, client_id: tokens.client_id }).toString(),
    })
    expect(response.status).toBe(200)
    await w.proxy.drain()
    expect(await w.store.upstreamTokens.get(grant!.id, Date.now())).toBeUndefined()
    expect((await introspectAtIdp(w, upstream['refresh_token'] as string))['active']).toBe(false)
  })

  it('derives the identity from a userinfo call at explicit endpoints (the GitHub shape: no discovery)', async () => {
    world = await startProxyWorld({
      upstream: (idp) => ({
        endpoints: { authorization: `${idp}/auth`, token: `${idp}/token`, userinfo: `${idp}/me` },
        scopes: ['openid', 'profile'],
        identity: { from: 'userinfo', subjectClaim: 'sub', nameClaim: 'name' },
      }),
    })
    const w = world
    const tokens = await flowThroughProxy(w, new TestBrowser())
    const claims = decodeJwt(tokens.access_token)
    expect(claims['sub']).toBe(UPSTREAM_ACCOUNT)
    expect(claims['upstream_iss']).toBe(w.idp.issuer)
    expect(claims['upstream_sub']).toBe(UPSTREAM_ACCOUNT)
    expect(w.idp.requests).toContain('/me')
    // Nothing was discovered: the explicit endpoints were used as given.
    expect(w.idp.requests.some((p) => p.startsWith('/.well-known/'))).toBe(false)
  })
})
