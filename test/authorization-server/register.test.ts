import { describe, expect, it } from 'vitest'
import { createAuthorizationServer } from '../../src/authorization-server/index.js'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import { COOKIE_SECRET, createTestServer, ISSUER, RESOURCE } from './support.js'

function register(
  as: { fetch(r: Request): Promise<Response> },
  body: unknown,
  headers: Record<string, string> = {},
) {
  return as.fetch(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  )
}

const NATIVE = {
  application_type: 'native',
  redirect_uris: ['http://127.0.0.1/cb'],
  token_endpoint_auth_method: 'none',
}

describe('dynamic client registration', () => {
  it('issues a secret only to confidential clients and keeps only its hash', async () => {
    const { as, store } = await createTestServer()
    const pub = (await (await register(as, NATIVE)).json()) as Record<string, unknown>
    expect(pub['client_secret']).toBeUndefined()
    expect(pub['token_endpoint_auth_method']).toBe('none')
    const r = await register(as, { redirect_uris: ['https://app.example/cb'] })
    expect(r.status).toBe(201)
    expect(r.headers.get('cache-control')).toBe('no-store')
    const conf = (await r.json()) as Record<string, unknown>
    // RFC 7591 §2: the default method is client_secret_basic.
    expect(conf['token_endpoint_auth_method']).toBe('client_secret_basic')
    expect(typeof conf['client_secret']).toBe('string')
    expect(conf['client_secret_expires_at']).toBe(0)
    expect(memoryStoreSnapshot(store)).not.toContain(conf['client_secret'] as string)
  })

  it('ignores a registrant’s choice of client_id and secret', async () => {
    const { as } = await createTestServer()
    const body = (await (
      await register(as, { ...NATIVE, client_id: 'chosen', client_secret: 'chosen-secret' })
    ).json()) as Record<string, unknown>
    expect(body['client_id']).not.toBe('chosen')
    expect(body['client_secret']).toBeUndefined()
  })

  it('honours application_type: web clients cannot use private-use schemes', async () => {
    const { as } = await createTestServer()
    const r = await register(as, {
      application_type: 'web',
      redirect_uris: ['cursor://cb/x'],
      token_endpoint_auth_method: 'none',
    })
    expect(((await r.json()) as { error: string }).error).toBe('invalid_redirect_uri')
    expect(
      (
        await register(as, {
          application_type: 'native',
          redirect_uris: ['cursor://cb/x'],
          token_endpoint_auth_method: 'none',
        })
      ).status,
    ).toBe(201)
  })

  it('refuses bad bodies and unsupported grants', async () => {
    const { as } = await createTestServer()
    expect(((await (await register(as, '{nope')).json()) as { error: string }).error).toBe(
      'invalid_client_metadata',
    )
    expect(
      ((await (await register(as, { ...NATIVE, grant_types: ['password'] })).json()) as { error: string })
        .error,
    ).toBe('invalid_client_metadata')
    expect(
      (
        (await (
          await register(as, { grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' })
        ).json()) as { error: string }
      ).error,
    ).toBe('invalid_client_metadata')
    expect(
      (
        (await (
          await register(as, {
            ...NATIVE,
            token_endpoint_auth_method: 'private_key_jwt',
            jwks_uri: 'https://a.example/jwks',
          })
        ).json()) as { error: string }
      ).error,
    ).toBe('invalid_client_metadata')
    const text = await as.fetch(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: '{}',
      }),
    )
    expect(text.status).toBe(400)
  })

  it('requires an initial access token in that mode', async () => {
    const token = 'initial-access-token-0123456789'
    const { as, store } = await createTestServer({
      registration: { mode: 'initial-access-token', initialAccessTokens: [token] },
    })
    const before = memoryStoreSnapshot(store)
    for (const headers of [
      {},
      { authorization: `Bearer ${token}x` },
      { authorization: `Basic ${btoa(token)}` },
    ]) {
      const r = await register(as, NATIVE, headers)
      expect(r.status).toBe(401)
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer/)
    }
    expect(JSON.parse(memoryStoreSnapshot(store)).clients).toEqual(JSON.parse(before).clients)
    expect((await register(as, NATIVE, { authorization: `Bearer ${token}` })).status).toBe(201)
  })

  it('rate-limits per source address through the store, across replicas', async () => {
    const { as, store } = await createTestServer({
      registration: { mode: 'open', rateLimit: { max: 2, windowMs: 60_000 } },
      getClientAddress: (r) => r.headers.get('x-test-addr') ?? undefined,
    })
    const replica = createAuthorizationServer({
      issuer: ISSUER,
      store,
      resources: [{ uri: RESOURCE, scopes: { 'mcp:tools': 'Tools' } }],
      login: { currentUser: async () => undefined },
      cookieSecret: COOKIE_SECRET,
      registration: { mode: 'open', rateLimit: { max: 2, windowMs: 60_000 } },
      getClientAddress: (r) => r.headers.get('x-test-addr') ?? undefined,
      clock: () => Date.UTC(2026, 0, 1),
      onAudit: () => {},
    })
    const a = { 'x-test-addr': '192.0.2.1' }
    expect((await register(as, NATIVE, a)).status).toBe(201)
    expect((await register(replica, NATIVE, a)).status).toBe(201)
    const limited = await register(as, NATIVE, a)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await register(replica, NATIVE, a)).status).toBe(429)
    expect((await register(as, NATIVE, { 'x-test-addr': '192.0.2.2' })).status).toBe(201)
  })

  it('takes the address from X-Forwarded-For only with trustProxy', async () => {
    const { as } = await createTestServer({
      registration: { mode: 'open', rateLimit: { max: 1, windowMs: 60_000 } },
      trustProxy: true,
    })
    expect((await register(as, NATIVE, { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' })).status).toBe(201)
    expect((await register(as, NATIVE, { 'x-forwarded-for': '203.0.113.9, 198.51.100.1' })).status).toBe(429)
    expect((await register(as, NATIVE, { 'x-forwarded-for': '203.0.113.9, 198.51.100.2' })).status).toBe(201)
  })

  it('lets an administrator register a client that never expires', async () => {
    const { as, store, clock } = await createTestServer()
    const info = await as.registerClient({
      client_id: 'admin-made',
      redirect_uris: ['https://app.example/cb'],
      token_endpoint_auth_method: 'client_secret_post',
    })
    expect(info.client_id).toBe('admin-made')
    expect(typeof info.client_secret).toBe('string')
    expect((await store.clients.get('admin-made', clock.now))?.expires_at).toBeUndefined()
    await expect(
      as.registerClient({ client_id: 'admin-made', redirect_uris: ['https://app.example/cb'] }),
    ).rejects.toMatchObject({ code: 'ERR_CLIENT_EXISTS' })
    await expect(as.registerClient({ redirect_uris: ['javascript:x'] })).rejects.toMatchObject({
      code: 'ERR_INVALID_CLIENT_METADATA',
    })
  })
})
