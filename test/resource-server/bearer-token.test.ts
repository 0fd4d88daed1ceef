import { describe, expect, it } from 'vitest'
import { parseAuthorizationHeader, tokenOutsideHeader } from '../../src/resource-server/bearer-token.js'

describe('parseAuthorizationHeader', () => {
  it('reads a token68 after Bearer, case-insensitively (RFC 6750 §2.1)', () => {
    // RFC 6750 §2.1 example
    expect(parseAuthorizationHeader('Bearer mF_9.B5f-4.1JqM')).toEqual({
      kind: 'token',
      token: 'mF_9.B5f-4.1JqM',
    })
    expect(parseAuthorizationHeader('bEaReR abc+/=')).toEqual({ kind: 'token', token: 'abc+/=' })
  })

  it('treats no header and other schemes as no bearer token', () => {
    expect(parseAuthorizationHeader(null)).toEqual({ kind: 'missing' })
    expect(parseAuthorizationHeader('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).toEqual({ kind: 'missing' })
    expect(parseAuthorizationHeader('DPoP abc')).toEqual({ kind: 'missing' })
  })

  it('refuses malformed and repeated credentials', () => {
    for (const value of [
      'Bearer',
      'Bearer ',
      'Bearer  a',
      'Bearer a b',
      'Bearer a=b',
      'Bearer\ta',
      'bearer',
    ]) {
      expect(parseAuthorizationHeader(value), value).toMatchObject({ kind: 'invalid', reason: 'malformed' })
    }
    expect(parseAuthorizationHeader('Bearer a, Bearer b')).toEqual({ kind: 'invalid', reason: 'multiple' })
    expect(parseAuthorizationHeader('Basic x, Bearer b')).toEqual({ kind: 'invalid', reason: 'multiple' })
    expect(parseAuthorizationHeader(`Bearer ${'a'.repeat(20)}`, 10)).toEqual({
      kind: 'invalid',
      reason: 'too-large',
    })
  })
})

describe('tokenOutsideHeader', () => {
  it('finds access_token in the query and in a form body, and nothing else', async () => {
    expect(tokenOutsideHeader(new Request('https://x.example/mcp?access_token=abc'))).toBe('query')
    expect(tokenOutsideHeader(new Request('https://x.example/mcp?q=access_token'))).toBeUndefined()
    const form = new Request('https://x.example/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
      body: 'a=1&access_token=abc',
    })
    expect(await tokenOutsideHeader(form)).toBe('body')
    expect(await form.text()).toBe('a=1&access_token=abc')
    const json = new Request('https://x.example/mcp', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"access_token":"x"}',
    })
    expect(tokenOutsideHeader(json)).toBeUndefined()
  })
})
