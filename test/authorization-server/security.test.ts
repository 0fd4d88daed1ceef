/**
 * One test per security case of anchors.md §3 that concerns the authorization server. Each sends the
 * malicious request, proves the attack fails, and proves nothing changed in the store.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import {
  authorizeCode,
  authorizeInBrowser,
  authorizeUrl,
  browse,
  CookieJar,
  createTestServer,
  hiddenField,
  ISSUER,
  logInIfAsked,
  OTHER_RESOURCE,
  obtainTokens,
  pkce,
  postForm,
  REDIRECT,
  RESOURCE,
  registerPublicClient,
} from './support.js'

const codeFor = (as: Parameters<typeof authorizeCode>[0], clientId: string) =>
  authorizeCode(as, clientId, { state: 's' })

function exchange(
  as: Parameters<typeof postForm>[0],
  clientId: string,
  code: string,
  verifier: string | undefined,
  extra: Record<string, string | string[]> = {},
) {
  return postForm(as, '/token', {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: clientId,
    ...(verifier === undefined ? {} : { code_verifier: verifier }),
    ...extra,
  })
}

describe('S6 (CVE-2025-4143): /authorize never redirects for an unknown client or an unregistered redirect_uri', () => {
  it('answers an unknown client_id with a local error page', async () => {
    const { as, store } = await createTestServer()
    const before = memoryStoreSnapshot(store)
    const { challenge } = await pkce()
    const r = await as.fetch(
      new Request(
        authorizeUrl({
          response_type: 'code',
          client_id: 'nobody',
          redirect_uri: 'https://evil.example/cb',
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: RESOURCE,
        }),
      ),
    )
    expect(r.status).toBe(400)
    expect(r.headers.get('location')).toBeNull()
    expect(r.headers.get('content-type')).toMatch(/text\/html/)
    expect(await r.text()).not.toContain('evil.example')
    expect(memoryStoreSnapshot(store)).toBe(before)
  })

  it('answers an unregistered redirect_uri with a local error page, even with other errors present', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const before = memoryStoreSnapshot(store)
    for (const redirect of [
      'https://evil.example/cb',
      'http://127.0.0.1:43210/callback/../evil',
      `${REDIRECT}?x=1`,
      'http://localhost:43210/callback',
    ]) {
      // response_type and PKCE are wrong too: those errors must not be redirected either.
      const r = await as.fetch(
        new Request(authorizeUrl({ response_type: 'token', client_id: clientId, redirect_uri: redirect })),
      )
      expect(r.status).toBe(400)
      expect(r.headers.get('location')).toBeNull()
    }
    expect(memoryStoreSnapshot(store)).toBe(before)
  })
})

describe('S7 (CVE-2025-4144): PKCE cannot be downgraded', () => {
  it('(a) a code with a challenge is not redeemed without the verifier, and stays usable', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { code, verifier } = await codeFor(as, clientId)
    const before = memoryStoreSnapshot(store)
    const r = await exchange(as, clientId, code, undefined)
    expect(r.status).toBe(400)
    expect(((await r.json()) as { error: string }).error).toBe('invalid_grant')
    expect(memoryStoreSnapshot(store)).toBe(before)
    expect((await exchange(as, clientId, code, verifier)).status).toBe(200)
  })

  it('(b) a wrong verifier fails verification', async () => {
    const { as } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { code } = await codeFor(as, clientId)
    const wrong = (await pkce()).verifier
    const r = await exchange(as, clientId, code, wrong)
    expect(((await r.json()) as { error: string }).error).toBe('invalid_grant')
  })

  it('(c) an authorization request without a challenge is refused at /authorize', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const before = memoryStoreSnapshot(store)
    const r = await as.fetch(
      new Request(
        authorizeUrl({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: REDIRECT,
          resource: RESOURCE,
          state: 'q',
        }),
      ),
    )
    expect(r.status).toBe(302)
    const location = new URL(r.headers.get('location')!)
    expect(location.searchParams.get('error')).toBe('invalid_request')
    expect(location.searchParams.get('state')).toBe('q')
    expect(location.searchParams.get('iss')).toBe(ISSUER)
    expect(location.searchParams.get('code')).toBeNull()
    expect(memoryStoreSnapshot(store)).toBe(before)
  })

  it('(d) plain, a missing method, and a malformed challenge are refused', async () => {
    const { as } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { verifier, challenge } = await pkce()
    for (const [c, m] of [
      [verifier, 'plain'],
      [challenge, undefined],
      [challenge, 's256'],
      ['short', 'S256'],
    ] as const) {
      const r = await as.fetch(
        new Request(
          authorizeUrl({
            response_type: 'code',
            client_id: clientId,
            redirect_uri: REDIRECT,
            resource: RESOURCE,
            code_challenge: c,
            code_challenge_method: m,
          }),
        ),
      )
      expect(new URL(r.headers.get('location')!).searchParams.get('error')).toBe('invalid_request')
    }
  })
})

describe('S8: the consent form carries only an opaque transaction id, and completion re-validates', () => {
  it('carries no request data, ignores posted request fields, and redirects only to the registered URI', async () => {
    const { as } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { challenge } = await pkce()
    const jar = new CookieJar()
    const url = authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
      state: 'st',
    })
    const html = await logInIfAsked(as, jar, await (await browse(as, jar, url, { site: 'none' })).text())
    const hidden = [...html.matchAll(/type="hidden" name="([^"]+)"/g)].map((m) => m[1])
    expect(hidden.sort()).toEqual(['csrf', 'transaction'])
    expect(html).not.toContain(challenge)
    const r = await browse(as, jar, '/interaction/consent', {
      form: {
        transaction: hiddenField(html, 'transaction'),
        csrf: hiddenField(html, 'csrf'),
        decision: 'approve',
        redirect_uri: 'https://evil.example/cb',
        client_id: 'attacker',
        scope: 'other:all',
      },
    })
    const location = new URL(r.headers.get('location')!)
    expect(location.origin + location.pathname).toBe(REDIRECT)
    expect(location.searchParams.get('code')).not.toBeNull()
  })

  it('refuses to complete when the client registration no longer allows the redirect URI', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { challenge } = await pkce()
    const jar = new CookieJar()
    const url = authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
    })
    const html = await logInIfAsked(as, jar, await (await browse(as, jar, url)).text())
    // The registration changes between authorize and consent (e.g. a tampered or rotated record).
    const record = (await store.clients.get(clientId, Date.UTC(2026, 0, 1)))!
    await store.clients.put({
      ...record,
      metadata: { ...record.metadata, redirect_uris: ['http://127.0.0.1:1/other'] },
    })
    const r = await browse(as, jar, '/interaction/consent', {
      form: {
        transaction: hiddenField(html, 'transaction'),
        csrf: hiddenField(html, 'csrf'),
        decision: 'approve',
      },
    })
    expect(r.status).toBe(400)
    expect(r.headers.get('location')).toBeNull()
    expect(memoryStoreSnapshot(store)).not.toContain('"codes":[[')
  })
})

describe('S9: dangerous redirect URI spellings are refused at registration and at /authorize', () => {
  const bad = [
    'JaVaScRiPt:alert(1)',
    ' javascript:alert(1)',
    'java\tscript:alert(1)',
    'data:text/html,x',
    'vbscript:x',
    'blob:https://a/b',
    'file:///etc/passwd',
  ]
  it('DCR refuses each, and stores nothing', async () => {
    const { as, store } = await createTestServer()
    const before = memoryStoreSnapshot(store)
    for (const uri of bad) {
      const r = await as.fetch(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            redirect_uris: [uri],
            token_endpoint_auth_method: 'none',
            application_type: 'native',
          }),
        }),
      )
      expect(r.status).toBe(400)
      expect(((await r.json()) as { error: string }).error).toBe('invalid_redirect_uri')
    }
    expect(JSON.parse(memoryStoreSnapshot(store)).clients).toEqual(JSON.parse(before).clients)
  })

  it('DCR still accepts private-use schemes and loopback http for native clients', async () => {
    const { as } = await createTestServer()
    for (const uri of [
      'cursor://anysphere.cursor-mcp/oauth/callback',
      'vscode://vscode.github-authentication/did-authenticate',
      'http://127.0.0.1/callback',
      'http://[::1]:8080/cb',
    ]) {
      await expect(registerPublicClient(as, { redirect_uris: [uri] })).resolves.toMatch(/^[A-Za-z0-9_-]+$/)
    }
  })

  it('/authorize refuses them with a local page', async () => {
    const { as } = await createTestServer()
    const clientId = await registerPublicClient(as)
    for (const uri of bad) {
      const r = await as.fetch(
        new Request(authorizeUrl({ response_type: 'code', client_id: clientId, redirect_uri: uri })),
      )
      expect(r.status).toBe(400)
      expect(r.headers.get('location')).toBeNull()
    }
  })
})

describe('S10: a client cannot revoke another client’s tokens', () => {
  it('client B revoking A’s refresh and access tokens has no effect', async () => {
    const { as, store } = await createTestServer()
    const a = await registerPublicClient(as)
    const b = await registerPublicClient(as)
    const tokens = await obtainTokens(as, a)
    const before = memoryStoreSnapshot(store)
    for (const token of [tokens.refresh_token, tokens.access_token]) {
      const r = await postForm(as, '/revoke', { token, client_id: b })
      expect(r.status).toBe(200)
    }
    expect(memoryStoreSnapshot(store)).toBe(before)
    const refreshed = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: a,
    })
    expect(refreshed.status).toBe(200)
  })
})

describe('S11: a wrong code has no side effect; the real code replayed revokes the grant', () => {
  it('wrong codes of any shape change nothing', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { code, verifier } = await codeFor(as, clientId)
    const before = memoryStoreSnapshot(store)
    const flipped = code.slice(0, -1) + (code.endsWith('A') ? 'B' : 'A')
    for (const wrong of [
      flipped,
      `${code}x`,
      code.slice(0, 10),
      'x',
      `${code.slice(0, 20)}:${'a'.repeat(20)}`,
    ]) {
      const r = await exchange(as, clientId, wrong, verifier)
      expect(((await r.json()) as { error: string }).error).toBe('invalid_grant')
    }
    expect(memoryStoreSnapshot(store)).toBe(before)
    expect((await exchange(as, clientId, code, verifier)).status).toBe(200)
  })

  it('the real code replayed by its client revokes every token of the grant', async () => {
    const { as, events } = await createTestServer({
      clients: [
        {
          client_id: 'rs',
          client_secret: 'resource-server-secret-0123',
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
    })
    const introspect = async (token: string) =>
      (await (
        await postForm(as, '/introspect', {
          token,
          client_id: 'rs',
          client_secret: 'resource-server-secret-0123',
        })
      ).json()) as { active: boolean }
    const clientId = await registerPublicClient(as)
    const { code, verifier } = await codeFor(as, clientId)
    const first = (await (await exchange(as, clientId, code, verifier)).json()) as {
      refresh_token: string
      access_token: string
    }
    expect((await introspect(first.access_token)).active).toBe(true)
    const replay = await exchange(as, clientId, code, verifier)
    expect(((await replay.json()) as { error: string }).error).toBe('invalid_grant')
    expect(events.some((e) => e.type === 'grant.revoked' && e.reason === 'code_replay')).toBe(true)
    const refresh = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: first.refresh_token,
      client_id: clientId,
    })
    expect(refresh.status).toBe(400)
    // The access token is still a valid signature, but its grant is gone.
    expect(await introspect(first.access_token)).toEqual({ active: false })
    expect(await introspect(first.refresh_token)).toEqual({ active: false })
  })
})

describe('S12: an invalid resource consumes nothing', () => {
  it('code exchange with an unknown resource leaves the code redeemable', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { code, verifier } = await codeFor(as, clientId)
    const before = memoryStoreSnapshot(store)
    // Unknown, malformed, several at once, and one this server protects but the code was not for.
    for (const resource of [
      'https://evil.example/mcp',
      'not a uri',
      [RESOURCE, OTHER_RESOURCE],
      OTHER_RESOURCE,
    ]) {
      const r = await exchange(as, clientId, code, verifier, { resource })
      expect(((await r.json()) as { error: string }).error).toBe('invalid_target')
    }
    expect(memoryStoreSnapshot(store)).toBe(before)
    expect((await exchange(as, clientId, code, verifier, { resource: RESOURCE })).status).toBe(200)
  })

  it('refresh with an unknown or other resource neither rotates nor revokes; near-expiry refresh works', async () => {
    const { as, store, clock } = await createTestServer({ lifetimes: { refreshToken: 120 } })
    const clientId = await registerPublicClient(as)
    const tokens = await obtainTokens(as, clientId)
    const before = memoryStoreSnapshot(store)
    for (const resource of ['https://evil.example/mcp', OTHER_RESOURCE]) {
      const r = await postForm(as, '/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: clientId,
        resource,
      })
      expect(((await r.json()) as { error: string }).error).toBe('invalid_target')
    }
    const up = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: clientId,
      scope: 'mcp:tools other:all',
    })
    expect(((await up.json()) as { error: string }).error).toBe('invalid_scope')
    expect(memoryStoreSnapshot(store)).toBe(before)
    clock.advance(119_000)
    const r = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: clientId,
      resource: RESOURCE,
    })
    expect(r.status).toBe(200)
  })
})

describe('S16: remembered consent is honoured only for same-origin or direct navigations', () => {
  it('a cross-site or unlabelled navigation gets the consent page, never a silent code', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { challenge } = await pkce()
    const url = authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
    })
    const { jar } = await authorizeInBrowser(as, url, { remember: true })
    const codesBefore = JSON.parse(memoryStoreSnapshot(store)).codes.length
    for (const site of ['cross-site', 'same-site', undefined]) {
      const r = await browse(as, jar, url, site === undefined ? {} : { site })
      expect(r.status).toBe(200)
      expect(r.headers.get('location')).toBeNull()
      expect(await r.text()).toContain('name="decision"')
    }
    expect(JSON.parse(memoryStoreSnapshot(store)).codes.length).toBe(codesBefore)
    const direct = await browse(as, jar, url, { site: 'none' })
    expect(direct.status).toBe(302)
    expect(new URL(direct.headers.get('location')!).searchParams.get('code')).not.toBeNull()
  })
})

describe('S18: exact redirect matching on parsed components; DCR answers hold only the client’s own credentials', () => {
  it('refuses userinfo tricks at registration and at /authorize', async () => {
    const { as } = await createTestServer()
    for (const uri of [
      'http://localhost:80@evil.com/cb',
      'http://127.0.0.1:43210@evil.com/callback',
      'https://user:pw@good.example/cb',
    ]) {
      const r = await as.fetch(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ redirect_uris: [uri], token_endpoint_auth_method: 'none' }),
        }),
      )
      expect(r.status).toBe(400)
    }
    const clientId = await registerPublicClient(as)
    const r = await as.fetch(
      new Request(
        authorizeUrl({
          response_type: 'code',
          client_id: clientId,
          redirect_uri: 'http://127.0.0.1:43210@evil.com/callback',
        }),
      ),
    )
    expect(r.status).toBe(400)
    expect(r.headers.get('location')).toBeNull()
  })

  it('each registration gets its own id and secret, and the answer holds nothing else', async () => {
    const { as } = await createTestServer()
    const answers: Record<string, unknown>[] = []
    for (let i = 0; i < 3; i++) {
      const r = await as.fetch(
        new Request(`${ISSUER}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            client_name: `c${i}`,
            redirect_uris: ['https://app.example/cb'],
            token_endpoint_auth_method: 'client_secret_basic',
          }),
        }),
      )
      answers.push((await r.json()) as Record<string, unknown>)
    }
    expect(new Set(answers.map((a) => a['client_id'])).size).toBe(3)
    expect(new Set(answers.map((a) => a['client_secret'])).size).toBe(3)
    for (const a of answers) {
      expect(Object.keys(a).sort()).toEqual(
        [
          'client_id',
          'client_id_issued_at',
          'client_name',
          'client_secret',
          'client_secret_expires_at',
          'grant_types',
          'redirect_uris',
          'token_endpoint_auth_method',
        ].sort(),
      )
    }
  })
})

describe('S19: the consent page escapes the client name, shows the redirect host, and cannot be framed', () => {
  it('renders <script> in client_name as text, with CSP and X-Frame-Options, and refuses a POST without the CSRF cookie', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as, { client_name: '<script>alert(1)</script>' })
    const { challenge } = await pkce()
    const jar = new CookieJar()
    let page = await browse(
      as,
      jar,
      authorizeUrl({
        response_type: 'code',
        client_id: clientId,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: RESOURCE,
      }),
    )
    let html = await page.text()
    page = await browse(as, jar, '/interaction/login', {
      form: {
        transaction: hiddenField(html, 'transaction'),
        csrf: hiddenField(html, 'csrf'),
        username: 'ada',
        password: 'correct horse',
      },
    })
    html = await page.text()
    expect(html).not.toContain('<script>alert(1)</script>')
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(html).toContain('127.0.0.1:43210')
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline')
    expect(page.headers.get('x-frame-options')).toBe('DENY')
    const before = memoryStoreSnapshot(store)
    // A cross-site POST: valid transaction and token, but the browser sends no cookie (SameSite=Lax).
    const forged = await postForm(as, '/interaction/consent', {
      transaction: hiddenField(html, 'transaction'),
      csrf: hiddenField(html, 'csrf'),
      decision: 'approve',
    })
    expect(forged.status).toBe(403)
    expect(forged.headers.get('location')).toBeNull()
    expect(memoryStoreSnapshot(store)).toBe(before)
  })
})

const SECRETISH = /secret|verifier|challenge|csrf|password|hash|mac\b|signature|binding/i
const LITERAL = /^(undefined|null|''|""|'[^']*'|"[^"]*"|\d+|true|false)$/

/** Comparisons with === / !== of a secret-bearing value against a non-literal, in one line of source. */
function secretComparisons(line: string): string[] {
  const found: string[] = []
  for (const m of line.matchAll(/([\w.[\]'"!()]+)\s*[!=]==\s*([\w.[\]'"()]+)/g)) {
    const [left, right] = [m[1]!.replace(/^[!(]+/, ''), m[2]!.replace(/\)+$/, '')]
    if (LITERAL.test(left) || LITERAL.test(right)) continue
    if (/typeof/.test(line.slice(0, m.index))) continue
    // Booleans (hasX, needsX…) and lengths are not secret values.
    if (/^(has|uses|needs|is)[A-Z]/.test(left) || /\.(byteLength|length)$/.test(left)) continue
    if (SECRETISH.test(left) || SECRETISH.test(right)) found.push(m[0])
  }
  return found
}

describe('S20: secrets are compared in constant time', () => {
  it('a client secret differing in one character is refused like any other wrong secret', async () => {
    const { as } = await createTestServer()
    const r = await as.fetch(
      new Request(`${ISSUER}/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_post',
        }),
      }),
    )
    const { client_id, client_secret } = (await r.json()) as { client_id: string; client_secret: string }
    const nearly = client_secret.slice(0, -1) + (client_secret.endsWith('A') ? 'B' : 'A')
    const wrong = await postForm(as, '/token', {
      grant_type: 'client_credentials',
      client_id,
      client_secret: nearly,
      resource: RESOURCE,
    })
    expect(wrong.status).toBe(401)
    const right = await postForm(as, '/token', {
      grant_type: 'client_credentials',
      client_id,
      client_secret,
      resource: RESOURCE,
    })
    expect(right.status).toBe(200)
  })

  it('no source file compares a secret-bearing value with === or !== (lint scan)', () => {
    const root = join(import.meta.dirname, '../../src/authorization-server')
    const files: string[] = []
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const path = join(dir, name)
        if (statSync(path).isDirectory()) walk(path)
        else if (/\.tsx?$/.test(name)) files.push(path)
      }
    }
    walk(root)
    expect(files.length).toBeGreaterThan(20)
    // The scan itself catches the bug it is for.
    expect(secretComparisons('if (client.secret === presented) ok()')).toHaveLength(1)
    expect(secretComparisons('if (computeChallenge(v) !== record.code_challenge) fail()')).toHaveLength(1)
    const violations: string[] = []
    for (const file of files) {
      for (const [index, line] of readFileSync(file, 'utf8').split('\n').entries()) {
        if (secretComparisons(line).length > 0) violations.push(`${file}:${index + 1}: ${line.trim()}`)
      }
    }
    expect(violations).toEqual([])
  })
})

describe('S21: parallel refreshes with one token yield exactly one successor; later reuse revokes the family', () => {
  it('N concurrent presentations get the same successor, then reuse after the grace window revokes', async () => {
    const { as, store, clock, events } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const tokens = await obtainTokens(as, clientId)
    const results = await Promise.all(
      Array.from({ length: 8 }, () =>
        postForm(as, '/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: clientId,
        }),
      ),
    )
    const bodies = (await Promise.all(results.map((r) => r.json()))) as { refresh_token: string }[]
    expect(results.every((r) => r.status === 200)).toBe(true)
    expect(new Set(bodies.map((b) => b.refresh_token)).size).toBe(1)
    expect(JSON.parse(memoryStoreSnapshot(store)).refreshTokens.length).toBe(2)
    clock.advance(11_000)
    const reuse = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: clientId,
    })
    expect(((await reuse.json()) as { error: string }).error).toBe('invalid_grant')
    expect(events.some((e) => e.type === 'refresh.reuse_detected')).toBe(true)
    const successor = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: bodies[0]!.refresh_token,
      client_id: clientId,
    })
    expect(successor.status).toBe(400)
  })
})

describe('S26: an unknown client at /token gets 401 invalid_client', () => {
  it('answers 401 with WWW-Authenticate and no-store, and changes nothing', async () => {
    const { as, store } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const tokens = await obtainTokens(as, clientId)
    await store.clients.delete(clientId)
    const before = memoryStoreSnapshot(store)
    for (const form of [
      { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: clientId },
      {
        grant_type: 'authorization_code',
        code: 'abc',
        code_verifier: (await pkce()).verifier,
        client_id: 'never-registered',
      },
    ]) {
      const r = await postForm(as, '/token', form)
      expect(r.status).toBe(401)
      expect(((await r.json()) as { error: string }).error).toBe('invalid_client')
      expect(r.headers.get('www-authenticate')).toMatch(/^Basic /)
      expect(r.headers.get('cache-control')).toBe('no-store')
    }
    expect(memoryStoreSnapshot(store)).toBe(before)
  })
})
