import { describe, expect, it } from 'vitest'
import { credentialsFromEnvironment } from '../../src/bridge/environment-credentials.js'
import { BridgeError } from '../../src/bridge/errors.js'
import { createStaticTokenFetch } from '../../src/bridge/static-token-fetch.js'

describe('credentialsFromEnvironment', () => {
  it('is interactive when nothing is set (blank values count as unset)', () => {
    expect(credentialsFromEnvironment({})).toEqual({ type: 'interactive' })
    expect(credentialsFromEnvironment({ PORTCULLIS_BEARER_TOKEN: '  ' })).toEqual({ type: 'interactive' })
  })

  it('takes a static bearer token', () => {
    expect(credentialsFromEnvironment({ PORTCULLIS_BEARER_TOKEN: 'abc.def' })).toEqual({
      type: 'bearer',
      token: 'abc.def',
    })
  })

  it('takes client credentials bound to one issuer, with an optional scope', () => {
    expect(
      credentialsFromEnvironment({
        PORTCULLIS_CLIENT_ID: 'bot',
        PORTCULLIS_CLIENT_SECRET: 's',
        PORTCULLIS_ISSUER: 'https://as.example.com',
        PORTCULLIS_SCOPE: 'a b',
      }),
    ).toEqual({
      type: 'client_credentials',
      clientId: 'bot',
      clientSecret: 's',
      issuer: 'https://as.example.com',
      scope: 'a b',
    })
  })

  it.each([
    [{ PORTCULLIS_BEARER_TOKEN: 't', PORTCULLIS_CLIENT_ID: 'bot' }, /not both/],
    [{ PORTCULLIS_CLIENT_ID: 'bot', PORTCULLIS_ISSUER: 'https://as.example.com' }, /need both/],
    [{ PORTCULLIS_CLIENT_SECRET: 's3cret-value', PORTCULLIS_ISSUER: 'https://as.example.com' }, /need both/],
    [{ PORTCULLIS_CLIENT_ID: 'bot', PORTCULLIS_CLIENT_SECRET: 's3cret-value' }, /need PORTCULLIS_ISSUER/],
    [
      { PORTCULLIS_CLIENT_ID: 'bot', PORTCULLIS_CLIENT_SECRET: 's3cret-value', PORTCULLIS_ISSUER: 'as' },
      /not a URL/,
    ],
    [
      {
        PORTCULLIS_CLIENT_ID: 'bot',
        PORTCULLIS_CLIENT_SECRET: 's3cret-value',
        PORTCULLIS_ISSUER: 'ftp://as.example',
      },
      /https URL/,
    ],
  ])('refuses %j', (env, message) => {
    let caught: unknown
    try {
      credentialsFromEnvironment(env)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(BridgeError)
    expect((caught as BridgeError).code).toBe('ERR_INVALID_OPTIONS')
    expect((caught as BridgeError).message).toMatch(message)
    expect((caught as BridgeError).message).not.toContain('s3cret-value')
  })
})

describe('createStaticTokenFetch', () => {
  const recording = () => {
    const calls: Array<{ url: string; authorization: string | null }> = []
    const fetch = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(input), authorization: new Headers(init?.headers).get('authorization') })
      return new Response('{}', { status: calls.length === 2 ? 401 : 200 })
    }) as typeof globalThis.fetch
    return { calls, fetch }
  }

  it('sends the token as a bearer header over https and to loopback, and reports refusals', async () => {
    const { calls, fetch } = recording()
    const refused: number[] = []
    const wrapped = createStaticTokenFetch('t0k-en_1.~+/=', {
      fetch,
      onRefused: (status) => refused.push(status),
    })
    await wrapped('https://mcp.example.com/mcp', { method: 'POST', headers: { accept: 'application/json' } })
    const second = await wrapped(new URL('http://127.0.0.1:9/mcp'))
    expect(second.status).toBe(401)
    expect(calls).toEqual([
      { url: 'https://mcp.example.com/mcp', authorization: 'Bearer t0k-en_1.~+/=' },
      { url: 'http://127.0.0.1:9/mcp', authorization: 'Bearer t0k-en_1.~+/=' },
    ])
    expect(refused).toEqual([401])
  })

  it('refuses plain http to another host before any request', async () => {
    const { calls, fetch } = recording()
    const wrapped = createStaticTokenFetch('token', { fetch })
    await expect(wrapped('http://mcp.example.com/mcp')).rejects.toMatchObject({ code: 'ERR_INSECURE_URL' })
    expect(calls).toEqual([])
  })

  it.each(['Bearer abc', 'abc\r\nX-Injected: 1', 'ab"c', ''])('refuses the token %j at creation', (token) => {
    expect(() => createStaticTokenFetch(token)).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TOKEN' }) as unknown as Error,
    )
  })
})
