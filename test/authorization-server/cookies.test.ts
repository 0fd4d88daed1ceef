import { describe, expect, it } from 'vitest'
import { cookieName, readCookie, serializeCookie } from '../../src/authorization-server/cookies.js'

function withCookie(header: string): Request {
  return new Request('http://127.0.0.1/', { headers: { cookie: header } })
}

describe('cookieName', () => {
  it('adds __Host- only when secure and the path is /', () => {
    expect(cookieName('csrf', true)).toBe('__Host-csrf')
    expect(cookieName('csrf', false)).toBe('csrf')
    expect(cookieName('csrf', true, '/authorize')).toBe('csrf')
  })
})

describe('serializeCookie', () => {
  it('writes a __Host- cookie with Secure, HttpOnly, SameSite=Lax and Path=/ by default when secure', () => {
    expect(serializeCookie('csrf', 'abc', { secure: true })).toBe(
      '__Host-csrf=abc; Path=/; HttpOnly; Secure; SameSite=Lax',
    )
  })

  it('writes a plain cookie without Secure over http', () => {
    expect(serializeCookie('csrf', 'abc', { secure: false })).toBe('csrf=abc; Path=/; HttpOnly; SameSite=Lax')
  })

  it('honours maxAge, sameSite, httpOnly and a non-root path (no prefix then)', () => {
    expect(
      serializeCookie('consent', 'v', {
        secure: true,
        sameSite: 'Strict',
        maxAge: 600,
        httpOnly: false,
        path: '/authorize',
      }),
    ).toBe('consent=v; Max-Age=600; Path=/authorize; Secure; SameSite=Strict')
    expect(serializeCookie('c', '', { secure: false, maxAge: 0 })).toBe(
      'c=; Max-Age=0; Path=/; HttpOnly; SameSite=Lax',
    )
  })

  it('percent-encodes the value so it cannot add attributes', () => {
    const header = serializeCookie('c', 'x; Domain=evil.example', { secure: false })
    expect(header).toBe('c=x%3B%20Domain%3Devil.example; Path=/; HttpOnly; SameSite=Lax')
    expect(readCookie(withCookie(header.split(';')[0]!), 'c')).toBe('x; Domain=evil.example')
  })

  it('refuses a name that is not a token and a path that would add attributes', () => {
    expect(() => serializeCookie('a b', 'v', { secure: false })).toThrow()
    expect(() => serializeCookie('a;b', 'v', { secure: false })).toThrow()
    expect(() => serializeCookie('c', 'v', { secure: false, path: '/; Domain=evil.example' })).toThrow()
  })
})

describe('readCookie', () => {
  it('reads a cookie among others', () => {
    expect(readCookie(withCookie('a=1; __Host-csrf=tok; b=2'), '__Host-csrf')).toBe('tok')
    expect(readCookie(withCookie('a=1;b=2'), 'b')).toBe('2')
  })

  it('returns the first occurrence', () => {
    expect(readCookie(withCookie('c=first; c=second'), 'c')).toBe('first')
  })

  it('does not match a name that only contains the wanted one', () => {
    expect(readCookie(withCookie('xcsrf=1; csrfx=2'), 'csrf')).toBeUndefined()
    expect(readCookie(withCookie('__Host-csrf=1'), 'csrf')).toBeUndefined()
  })

  it('strips DQUOTEs around a value', () => {
    expect(readCookie(withCookie('c="quoted"'), 'c')).toBe('quoted')
  })

  it('is undefined without a Cookie header, or for an empty one', () => {
    expect(readCookie(new Request('http://127.0.0.1/'), 'c')).toBeUndefined()
    expect(readCookie(withCookie(''), 'c')).toBeUndefined()
  })

  it.each([
    'c',
    ';;;',
    '=; =c; c',
    'c=%E0%A4%A',
    'c=\u00ff\u00fe',
    'c=a"b',
    'c=a\\b',
    ' ; c ; ',
    `c=${'%'.repeat(5000)}`,
  ])('never throws on garbage %j', (header) => {
    expect(() => readCookie(withCookie(header), 'c')).not.toThrow()
  })

  it('skips values with characters outside cookie-octets', () => {
    expect(readCookie(withCookie('c=a"b'), 'c')).toBeUndefined()
    expect(readCookie(withCookie('c=a\\b'), 'c')).toBeUndefined()
  })

  it('keeps malformed percent-encoding as it is rather than throwing', () => {
    expect(readCookie(withCookie('c=%E0%A4%A'), 'c')).toBe('%E0%A4%A')
  })
})
