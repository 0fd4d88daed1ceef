/**
 * The Node entry point of the proxy: upstream calls go through the SSRF-safe fetch by default, so
 * a provider on a non-public address is refused before any connection unless the operator allows
 * it; with loopback allowed (development), the whole sign-in works through `proxy.listener`.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { createNodeOAuthProxy, type NodeOAuthProxy } from '../../src/node/index.js'
import { computeCodeChallenge, generateCodeVerifier } from '../../src/protocol/pkce.js'
import { createMemoryStore } from '../../src/storage/index.js'
import {
  approveInBrowser,
  authorizeUrl,
  CLIENT_REDIRECT,
  COOKIE_SECRET,
  type Listening,
  listen,
  registerClient,
  startUpstreamIdp,
  TestBrowser,
  testUpstream,
  type UpstreamIdp,
} from './support.js'

const cleanup: (() => Promise<void>)[] = []

afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close()
})

async function world(safeFetch: {
  allowLoopback?: boolean
}): Promise<{ issuer: string; idp: UpstreamIdp; proxy: NodeOAuthProxy }> {
  let proxy: NodeOAuthProxy | undefined
  const listening: Listening = await listen((req, res) => proxy!.listener(req, res))
  cleanup.push(listening.close)
  const idp = await startUpstreamIdp({ redirectUri: `${listening.origin}/upstream/callback` })
  cleanup.push(idp.close)
  proxy = createNodeOAuthProxy({
    issuer: listening.origin,
    store: await createMemoryStore({ encryptionKey: 'node-proxy-test-encryption-key-0123456789ab' }),
    resources: [{ uri: 'http://127.0.0.1:47999/mcp', scopes: { 'mcp:tools': 'Use the tools' } }],
    cookieSecret: COOKIE_SECRET,
    upstream: testUpstream(idp.issuer),
    cimd: false,
    safeFetch,
    onAudit: () => {},
  })
  return { issuer: listening.origin, idp, proxy }
}

async function authorization(issuer: string): Promise<string> {
  const { body } = await registerClient(issuer)
  return authorizeUrl(issuer, {
    response_type: 'code',
    client_id: body['client_id'] as string,
    redirect_uri: CLIENT_REDIRECT,
    code_challenge: await computeCodeChallenge(generateCodeVerifier()),
    code_challenge_method: 'S256',
    resource: 'http://127.0.0.1:47999/mcp',
    state: 's',
  })
}

describe('createNodeOAuthProxy', () => {
  it('refuses to reach a provider on a loopback address by default (SSRF-safe upstream fetch)', async () => {
    const { issuer, idp } = await world({})
    const errors: unknown[] = []
    const original = console.error
    console.error = (...args: unknown[]) => errors.push(args)
    try {
      const page = await new TestBrowser().request(await authorization(issuer), { site: 'none' })
      expect(page.status).toBe(500)
    } finally {
      console.error = original
    }
    // Refused before connecting: the provider saw nothing at all.
    expect(idp.requests).toEqual([])
  })

  it('completes a sign-in through proxy.listener when loopback is allowed for development', async () => {
    const w = await world({ allowLoopback: true })
    const { location } = await approveInBrowser(w, new TestBrowser(), await authorization(w.issuer))
    expect(location.origin + location.pathname).toBe(CLIENT_REDIRECT)
    expect(location.searchParams.get('code')).toBeTruthy()
    expect(w.idp.requests).toContain('/token')
  })
})
