import { describe, expect, it } from 'vitest'
import { clientSecretBasic, toStoredTokens } from '../../src/client/index.js'

describe('clientSecretBasic (RFC 6749 §2.3.1)', () => {
  it('form-urlencodes id and secret before base64, leaving unreserved characters alone', () => {
    const headers = new Headers()
    clientSecretBasic('s:e c/r+t')(
      {} as never,
      { client_id: 'pre-registered.client_1' },
      new URLSearchParams(),
      headers,
    )
    const decoded = atob(headers.get('authorization')!.slice(6))
    expect(decoded).toBe('pre-registered.client_1:s%3Ae+c%2Fr%2Bt')
  })
})

describe('toStoredTokens', () => {
  it('computes the expiry and keeps the previous refresh token when none is returned', () => {
    const stored = toStoredTokens({ access_token: 'a2', token_type: 'bearer', expires_in: 60 } as never, {
      issuer: 'https://as',
      resource: 'https://rs',
      now: 1000,
      previous: {
        issuer: 'https://as',
        resource: 'https://rs',
        access_token: 'a1',
        token_type: 'Bearer',
        refresh_token: 'r1',
        requested_scope: 'x',
      },
    })
    expect(stored).toEqual({
      issuer: 'https://as',
      resource: 'https://rs',
      access_token: 'a2',
      token_type: 'Bearer',
      refresh_token: 'r1',
      expires_at: 61_000,
      requested_scope: 'x',
    })
  })
})
