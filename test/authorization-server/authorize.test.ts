import { describe, expect, it } from 'vitest'
import {
  authorizeInBrowser,
  authorizeUrl,
  browse,
  CookieJar,
  createTestServer,
  hiddenField,
  ISSUER,
  pkce,
  REDIRECT,
  RESOURCE,
  registerPublicClient,
} from './support.js'

async function request(extra: Record<string, string | undefined>, clientId: string) {
  const { challenge } = await pkce()
  return authorizeUrl({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: RESOURCE,
    state: 'abc',
    ...extra,
  })
}

function errorOf(r: Response) {
  expect(r.status).toBe(302)
  const l = new URL(r.headers.get('location')!)
  expect(l.origin + l.pathname).toBe(REDIRECT)
  // RFC 9207: iss on error responses too; state echoed.
  expect(l.searchParams.get('iss')).toBe(ISSUER)
  expect(l.searchParams.get('state')).toBe('abc')
  return l.searchParams.get('error')
}

describe('authorization endpoint: redirected errors', () => {
  it('refuses other response types, unknown resources and scopes, each with iss and state', async () => {
    const { as } = await createTestServer()
    const id = await registerPublicClient(as)
    expect(errorOf(await as.fetch(new Request(await request({ response_type: 'token' }, id))))).toBe(
      'unsupported_response_type',
    )
    expect(
      errorOf(await as.fetch(new Request(await request({ resource: 'https://evil.example/mcp' }, id)))),
    ).toBe('invalid_target')
    expect(errorOf(await as.fetch(new Request(await request({ resource: undefined }, id))))).toBe(
      'invalid_target',
    )
    expect(errorOf(await as.fetch(new Request(await request({ scope: 'mcp:tools admin' }, id))))).toBe(
      'invalid_scope',
    )
    expect(errorOf(await as.fetch(new Request(await request({ scope: 'other:all' }, id))))).toBe(
      'invalid_scope',
    )
  })

  it('refuses scopes outside the client’s registered scope, and clients without the code grant', async () => {
    const { as } = await createTestServer({
      clients: [
        {
          client_id: 'limited',
          redirect_uris: [REDIRECT],
          token_endpoint_auth_method: 'none',
          scope: 'mcp:read',
        },
        {
          client_id: 'machine',
          client_secret: 'machine-secret-0123456789',
          redirect_uris: [REDIRECT],
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
      ],
    })
    expect(errorOf(await as.fetch(new Request(await request({ scope: 'mcp:tools' }, 'limited'))))).toBe(
      'invalid_scope',
    )
    expect(errorOf(await as.fetch(new Request(await request({}, 'machine'))))).toBe('unauthorized_client')
  })

  it('uses the configured default resource when none is named, and ignores offline_access', async () => {
    const { as } = await createTestServer({ defaultResource: RESOURCE })
    const id = await registerPublicClient(as)
    const { location } = await authorizeInBrowser(
      as,
      await request({ resource: undefined, scope: 'offline_access mcp:read' }, id),
    )
    expect(location.searchParams.get('code')).not.toBeNull()
  })

  it('renders a repeated parameter as a local error page', async () => {
    const { as } = await createTestServer()
    const id = await registerPublicClient(as)
    const url = `${await request({}, id)}&client_id=${id}`
    const r = await as.fetch(new Request(url))
    expect(r.status).toBe(400)
    expect(r.headers.get('location')).toBeNull()
  })
})

describe('login and consent', () => {
  it('denial redirects with access_denied', async () => {
    const { as, events } = await createTestServer()
    const id = await registerPublicClient(as)
    const { location } = await authorizeInBrowser(as, await request({}, id), { decision: 'deny' })
    expect(location.searchParams.get('error')).toBe('access_denied')
    expect(location.searchParams.get('iss')).toBe(ISSUER)
    expect(location.searchParams.get('code')).toBeNull()
    expect(events.some((e) => e.type === 'consent.denied')).toBe(true)
  })

  it('rejects wrong passwords, then ends the transaction after five attempts', async () => {
    const { as, store, events } = await createTestServer()
    const id = await registerPublicClient(as)
    const jar = new CookieJar()
    const html = await (await browse(as, jar, await request({}, id))).text()
    const form = {
      transaction: hiddenField(html, 'transaction'),
      csrf: hiddenField(html, 'csrf'),
      username: 'ada',
      password: 'wrong',
    }
    for (let i = 0; i < 4; i++) {
      const r = await browse(as, jar, '/interaction/login', { form })
      expect(r.status).toBe(401)
      expect(await r.text()).toContain('not correct')
    }
    const last = await browse(as, jar, '/interaction/login', { form })
    expect(last.status).toBe(429)
    expect(await store.transactions.get(form.transaction, Date.UTC(2026, 0, 1))).toBeUndefined()
    const after = await browse(as, jar, '/interaction/login', {
      form: { ...form, password: 'correct horse' },
    })
    expect(after.status).toBe(400)
    expect(events.filter((e) => e.type === 'login.failed')).toHaveLength(5)
    expect(JSON.stringify(events)).not.toContain('wrong')
  })

  it('refuses a CSRF token of another transaction, and an expired transaction', async () => {
    const { as, clock } = await createTestServer()
    const id = await registerPublicClient(as)
    const jar = new CookieJar()
    const first = await (await browse(as, jar, await request({}, id))).text()
    const second = await (await browse(as, jar, await request({}, id))).text()
    const crossed = await browse(as, jar, '/interaction/login', {
      form: {
        transaction: hiddenField(first, 'transaction'),
        csrf: hiddenField(second, 'csrf'),
        username: 'ada',
        password: 'correct horse',
      },
    })
    expect(crossed.status).toBe(403)
    clock.advance(601_000)
    const late = await browse(as, jar, '/interaction/login', {
      form: {
        transaction: hiddenField(first, 'transaction'),
        csrf: hiddenField(first, 'csrf'),
        username: 'ada',
        password: 'correct horse',
      },
    })
    expect(late.status).toBe(400)
  })

  it('keeps a login session: the second authorization goes straight to consent', async () => {
    const { as } = await createTestServer()
    const id = await registerPublicClient(as)
    const { jar } = await authorizeInBrowser(as, await request({}, id))
    const page = await browse(as, jar, await request({}, id), { site: 'none' })
    const html = await page.text()
    expect(html).toContain('name="decision"')
    expect(html).not.toContain('name="password"')
  })

  it('a consent transaction cannot be completed by another signed-in user', async () => {
    const { as } = await createTestServer({
      login: {
        currentUser: async (r: Request) =>
          r.headers.get('x-user') === null ? undefined : { subject: r.headers.get('x-user')! },
      },
    })
    const id = await registerPublicClient(as)
    const url = await request({}, id)
    const jar = new CookieJar()
    const page = await as.fetch(new Request(url, { headers: { 'x-user': 'alice' } }))
    jar.store(page)
    const html = await page.text()
    const body = new URLSearchParams({
      transaction: hiddenField(html, 'transaction'),
      csrf: hiddenField(html, 'csrf'),
      decision: 'approve',
    })
    const asMallory = await as.fetch(
      new Request(`${ISSUER}/interaction/consent`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: jar.header(),
          'x-user': 'mallory',
        },
        body,
      }),
    )
    expect(asMallory.status).toBe(403)
    const asAlice = await as.fetch(
      new Request(`${ISSUER}/interaction/consent`, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: jar.header(),
          'x-user': 'alice',
        },
        body,
      }),
    )
    expect(asAlice.status).toBe(303)
    expect(new URL(asAlice.headers.get('location')!).searchParams.get('code')).not.toBeNull()
  })

  it('sends a signed-out browser to the host’s login URL, or shows a page when there is none', async () => {
    const withUrl = await createTestServer({
      login: {
        currentUser: async () => undefined,
        loginUrl: (returnTo: string) => `https://app.example/login?next=${encodeURIComponent(returnTo)}`,
      },
    })
    const id = await registerPublicClient(withUrl.as)
    const url = await request({}, id)
    const r = await withUrl.as.fetch(new Request(url))
    expect(r.status).toBe(302)
    expect(new URL(r.headers.get('location')!).searchParams.get('next')).toBe(url)
    const without = await createTestServer({ login: { currentUser: async () => undefined } })
    const id2 = await registerPublicClient(without.as)
    expect((await without.as.fetch(new Request(await request({}, id2)))).status).toBe(401)
  })
})
