import { describe, expect, it } from 'vitest'
import { createCsrf } from '../../src/authorization-server/csrf.js'
import { base64url, utf8 } from '../../src/protocol/random.js'

const SECRET = 'a-test-secret-that-is-long-enough-0123456789'

function get(cookie?: string): Request {
  return new Request('http://127.0.0.1/authorize', cookie === undefined ? {} : { headers: { cookie } })
}

// What the browser sends back: the name=value part of Set-Cookie.
function cookiePair(setCookie: string | undefined): string {
  if (setCookie === undefined) throw new Error('expected a Set-Cookie')
  return setCookie.split(';')[0]!
}

describe('createCsrf', () => {
  it('round-trips: the token issued with a new cookie verifies with that cookie', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const { token, setCookie } = await csrf.issue(get(), 'txn-1')
    expect(setCookie).toMatch(/^portcullis_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/)
    expect(await csrf.verify(get(cookiePair(setCookie)), 'txn-1', token)).toBe(true)
  })

  it('uses a __Host- Secure cookie when secure', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: true })
    const { token, setCookie } = await csrf.issue(get(), 'txn-1')
    expect(setCookie).toMatch(
      /^__Host-portcullis_csrf=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; Secure; SameSite=Lax$/,
    )
    expect(await csrf.verify(get(cookiePair(setCookie)), 'txn-1', token)).toBe(true)
    // The unprefixed name is not read when secure: a sibling subdomain could have planted it.
    const value = cookiePair(setCookie).split('=')[1]!
    expect(await csrf.verify(get(`portcullis_csrf=${value}`), 'txn-1', token)).toBe(false)
  })

  it('computes the token as base64url(HMAC-SHA256(secret, cookie | transaction))', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const { token, setCookie } = await csrf.issue(get(), 'txn-1')
    const binding = cookiePair(setCookie).split('=')[1]!
    const key = await crypto.subtle.importKey('raw', utf8(SECRET), { name: 'HMAC', hash: 'SHA-256' }, false, [
      'sign',
    ])
    const expected = base64url(
      new Uint8Array(await crypto.subtle.sign('HMAC', key, utf8(`${binding}|txn-1`))),
    )
    expect(token).toBe(expected)
  })

  it('reuses an existing cookie, so a second GET (prefetch) leaves the first form valid', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const first = await csrf.issue(get(), 'txn-1')
    const cookie = cookiePair(first.setCookie)
    const second = await csrf.issue(get(cookie), 'txn-1')
    expect(second.setCookie).toBeUndefined()
    expect(second.token).toBe(first.token)
    expect(await csrf.verify(get(cookie), 'txn-1', first.token)).toBe(true)
  })

  it('fails for another transaction (a token cannot be reused across transactions)', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const { token, setCookie } = await csrf.issue(get(), 'txn-1')
    const cookie = cookiePair(setCookie)
    expect(await csrf.verify(get(cookie), 'txn-2', token)).toBe(false)
    const other = await csrf.issue(get(cookie), 'txn-2')
    expect(other.token).not.toBe(token)
    expect(await csrf.verify(get(cookie), 'txn-1', other.token)).toBe(false)
  })

  it('S15: a cross-site POST with a valid transaction and token but no cookie fails', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const { token } = await csrf.issue(get(), 'txn-1')
    // SameSite=Lax: the browser sends no cookie with a cross-site POST.
    const crossSite = new Request('http://127.0.0.1/authorize/consent', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'sec-fetch-site': 'cross-site' },
      body: new URLSearchParams({ transaction: 'txn-1', csrf: token, decision: 'approve' }),
    })
    expect(await csrf.verify(crossSite, 'txn-1', token)).toBe(false)
  })

  it("fails with the attacker's own cookie and the victim's token", async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const victim = await csrf.issue(get(), 'txn-1')
    const attacker = await csrf.issue(get(), 'txn-1')
    expect(await csrf.verify(get(cookiePair(attacker.setCookie)), 'txn-1', victim.token)).toBe(false)
  })

  it('fails for a tampered, missing or oversized token', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const { token, setCookie } = await csrf.issue(get(), 'txn-1')
    const cookie = cookiePair(setCookie)
    const flipped = (token[0] === 'A' ? 'B' : 'A') + token.slice(1)
    expect(await csrf.verify(get(cookie), 'txn-1', flipped)).toBe(false)
    expect(await csrf.verify(get(cookie), 'txn-1', token.slice(0, -1))).toBe(false)
    expect(await csrf.verify(get(cookie), 'txn-1', `${token}A`)).toBe(false)
    expect(await csrf.verify(get(cookie), 'txn-1', undefined)).toBe(false)
    expect(await csrf.verify(get(cookie), 'txn-1', '')).toBe(false)
    expect(await csrf.verify(get(cookie), 'txn-1', 'x'.repeat(10_000))).toBe(false)
  })

  it('fails when the cookie is tampered with, and replaces a malformed cookie on issue', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const { token, setCookie } = await csrf.issue(get(), 'txn-1')
    const value = cookiePair(setCookie).split('=')[1]!
    const tampered = (value[0] === 'A' ? 'B' : 'A') + value.slice(1)
    expect(await csrf.verify(get(`portcullis_csrf=${tampered}`), 'txn-1', token)).toBe(false)
    expect(await csrf.verify(get('portcullis_csrf=short'), 'txn-1', token)).toBe(false)
    const reissued = await csrf.issue(get('portcullis_csrf=not valid'), 'txn-1')
    expect(reissued.setCookie).toBeDefined()
  })

  it('fails under another secret (replicas must share it)', async () => {
    const a = createCsrf({ secret: SECRET, secure: false })
    const b = createCsrf({ secret: `${SECRET}-other`, secure: false })
    const { token, setCookie } = await a.issue(get(), 'txn-1')
    expect(await b.verify(get(cookiePair(setCookie)), 'txn-1', token)).toBe(false)
  })

  it('accepts an HMAC CryptoKey and a custom cookie name', async () => {
    const key = await crypto.subtle.generateKey({ name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
    const csrf = createCsrf({ secret: key, secure: false, cookieName: 'my_csrf' })
    const { token, setCookie } = await csrf.issue(get(), 'txn-1')
    expect(setCookie).toMatch(/^my_csrf=/)
    expect(await csrf.verify(get(cookiePair(setCookie)), 'txn-1', token)).toBe(true)
  })

  it('refuses a missing or short secret at construction', () => {
    expect(() => createCsrf({ secret: 'short', secure: false })).toThrow(TypeError)
    expect(() => createCsrf({ secret: '', secure: false })).toThrow(TypeError)
    expect(() => createCsrf({ secret: undefined as unknown as string, secure: false })).toThrow(TypeError)
  })

  it('gives each new browser its own cookie', async () => {
    const csrf = createCsrf({ secret: SECRET, secure: false })
    const a = await csrf.issue(get(), 'txn-1')
    const b = await csrf.issue(get(), 'txn-1')
    expect(a.setCookie).not.toBe(b.setCookie)
    expect(a.token).not.toBe(b.token)
  })
})
