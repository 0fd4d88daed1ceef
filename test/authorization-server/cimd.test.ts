import { describe, expect, it } from 'vitest'
import { cacheLifetimeMs } from '../../src/authorization-server/clients/cimd.js'
import {
  authorizeInBrowser,
  authorizeUrl,
  createTestServer,
  pkce,
  postForm,
  REDIRECT,
  RESOURCE,
} from './support.js'

const CLIENT = 'https://client.example/oauth/metadata.json'

function doc(extra: Record<string, unknown> = {}) {
  return {
    client_id: CLIENT,
    client_name: 'Example MCP client',
    redirect_uris: [REDIRECT],
    token_endpoint_auth_method: 'none',
    ...extra,
  }
}

function stub(answer: (url: string, init?: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; init?: RequestInit }[] = []
  const fetch = async (url: string, init?: RequestInit) => {
    calls.push({ url, ...(init === undefined ? {} : { init }) })
    return answer(url, init)
  }
  return { fetch, calls }
}

const json = (body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status: 200,
    headers: { 'content-type': 'application/json', ...headers },
  })

async function authorize(as: Awaited<ReturnType<typeof createTestServer>>['as'], clientId = CLIENT) {
  const { challenge } = await pkce()
  return as.fetch(
    new Request(
      authorizeUrl({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: RESOURCE,
      }),
    ),
  )
}

describe('Client ID Metadata Documents', () => {
  it('fetches the document without following redirects and runs the whole flow with the URL as client_id', async () => {
    const s = stub(() => json(doc()))
    const { as } = await createTestServer({ cimd: { fetch: s.fetch } })
    const { verifier, challenge } = await pkce()
    const { location } = await authorizeInBrowser(
      as,
      authorizeUrl({
        response_type: 'code',
        client_id: CLIENT,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: RESOURCE,
      }),
    )
    expect(s.calls[0]!.url).toBe(CLIENT)
    expect(s.calls[0]!.init?.redirect).toBe('manual')
    const r = await postForm(as, '/token', {
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      code_verifier: verifier,
      client_id: CLIENT,
      redirect_uri: REDIRECT,
    })
    expect(r.status).toBe(200)
  })

  it('shows the document host on the consent page', async () => {
    const s = stub(() => json(doc()))
    const { as } = await createTestServer({
      cimd: { fetch: s.fetch },
      login: { currentUser: async () => ({ subject: 'u' }) },
    })
    const html = await (await authorize(as)).text()
    expect(html).toContain('client.example')
    expect(html).toContain('Example MCP client')
  })

  it('refuses a mismatched client_id, a redirect, a shared-secret method, and an oversized document, never redirecting', async () => {
    const cases: Response[] = [
      json(doc({ client_id: 'https://client.example/other.json' })),
      new Response(null, { status: 302, headers: { location: 'http://169.254.169.254/latest' } }),
      json(doc({ token_endpoint_auth_method: 'client_secret_post' })),
      json(doc({ padding: 'x'.repeat(6000) })),
      new Response('not json', { status: 200 }),
      new Response('{}', { status: 404 }),
    ]
    for (const answer of cases) {
      const { as, store, clock } = await createTestServer({ cimd: { fetch: stub(() => answer).fetch } })
      const r = await authorize(as)
      expect(r.status).toBe(400)
      expect(r.headers.get('location')).toBeNull()
      expect(await store.clients.get(CLIENT, clock.now)).toBeUndefined()
    }
  })

  it('never caches failures', async () => {
    let n = 0
    const s = stub(() => (n++ === 0 ? new Response('', { status: 500 }) : json(doc())))
    const { as } = await createTestServer({
      cimd: { fetch: s.fetch },
      login: { currentUser: async () => ({ subject: 'u' }) },
    })
    expect((await authorize(as)).status).toBe(400)
    expect((await authorize(as)).status).toBe(200)
    expect(s.calls).toHaveLength(2)
  })

  it('caches within the bounds, honouring max-age', async () => {
    const s = stub(() => json(doc(), { 'cache-control': 'public, max-age=120' }))
    const { as, clock } = await createTestServer({
      cimd: { fetch: s.fetch },
      login: { currentUser: async () => ({ subject: 'u' }) },
    })
    await authorize(as)
    clock.advance(119_000)
    await authorize(as)
    expect(s.calls).toHaveLength(1)
    clock.advance(2000)
    await authorize(as)
    expect(s.calls).toHaveLength(2)
  })

  it('computes cache lifetimes from Cache-Control within bounds', () => {
    const bounds = { minMs: 60_000, maxMs: 86_400_000, defaultMs: 300_000 }
    expect(cacheLifetimeMs('max-age=120', bounds)).toBe(120_000)
    expect(cacheLifetimeMs('max-age=5', bounds)).toBe(60_000)
    expect(cacheLifetimeMs('max-age=999999999', bounds)).toBe(86_400_000)
    expect(cacheLifetimeMs('no-store', bounds)).toBe(60_000)
    expect(cacheLifetimeMs(null, bounds)).toBe(300_000)
    expect(cacheLifetimeMs('private', bounds)).toBe(300_000)
  })

  it('coalesces concurrent fetches of one URL', async () => {
    let release!: () => void
    const gate = new Promise<void>((r) => {
      release = r
    })
    const s = stub(async () => {
      await gate
      return json(doc())
    })
    const { as } = await createTestServer({
      cimd: { fetch: s.fetch },
      login: { currentUser: async () => ({ subject: 'u' }) },
    })
    const pending = Array.from({ length: 5 }, () => authorize(as))
    await new Promise((r) => setTimeout(r, 20))
    release()
    const results = await Promise.all(pending)
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200])
    expect(s.calls).toHaveLength(1)
  })

  it('honours allowHosts before fetching', async () => {
    const s = stub(() => json(doc()))
    const { as } = await createTestServer({ cimd: { fetch: s.fetch, allowHosts: ['trusted.example'] } })
    expect((await authorize(as)).status).toBe(400)
    expect(s.calls).toHaveLength(0)
  })

  it('answers an unfetchable document at the token endpoint with 401 invalid_client', async () => {
    const s = stub(() => new Response('', { status: 500 }))
    const { as } = await createTestServer({ cimd: { fetch: s.fetch } })
    const r = await postForm(as, '/token', {
      grant_type: 'authorization_code',
      code: 'x',
      code_verifier: (await pkce()).verifier,
      client_id: CLIENT,
    })
    expect(r.status).toBe(401)
    expect(((await r.json()) as { error: string }).error).toBe('invalid_client')
  })
})
