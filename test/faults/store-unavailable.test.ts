/**
 * The authorization server's answer when its store cannot be reached: `503` with `Retry-After`
 * (a JSON `temporarily_unavailable` on API endpoints, an error page on browser pages), never a
 * `500` and never internals. Any other failure stays a detail-free `500`.
 */
import { describe, expect, it } from 'vitest'
import { StorageError } from '../../src/storage/errors.js'
import { createMemoryStore } from '../../src/storage/index.js'
import { isUnavailable } from '../../src/storage/sql/postgres.js'
import type { Store } from '../../src/storage/types.js'
import {
  authorizeUrl,
  createTestServer,
  pkce,
  postForm,
  REDIRECT,
  RESOURCE,
} from '../authorization-server/support.js'

async function failingStore(error: Error): Promise<Store> {
  const store = await createMemoryStore()
  const fail = async () => {
    throw error
  }
  return { ...store, clients: { ...store.clients, get: fail, put: fail } }
}

const down = new StorageError('ERR_STORAGE_UNAVAILABLE', 'the Postgres server cannot be reached')

describe('store unavailable', () => {
  it('answers 503 temporarily_unavailable with Retry-After on the token and registration endpoints', async () => {
    const { as } = await createTestServer({ store: await failingStore(down) })
    const token = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      client_id: 'c',
      refresh_token: 'r',
    })
    expect(token.status).toBe(503)
    expect(token.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(token.headers.get('cache-control')).toBe('no-store')
    expect(await token.json()).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'the service is temporarily unavailable',
    })
    const register = await as.fetch(
      new Request('https://as.example.com/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ redirect_uris: [REDIRECT], token_endpoint_auth_method: 'none' }),
      }),
    )
    expect(register.status).toBe(503)
    expect(register.headers.get('retry-after')).toMatch(/^\d+$/)
  })

  it('answers a 503 page with Retry-After on the authorization endpoint', async () => {
    const { as } = await createTestServer({ store: await failingStore(down) })
    const { challenge } = await pkce()
    const page = await as.fetch(
      new Request(
        authorizeUrl({
          response_type: 'code',
          client_id: 'client',
          redirect_uri: REDIRECT,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: RESOURCE,
        }),
      ),
    )
    expect(page.status).toBe(503)
    expect(page.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(page.headers.get('content-type')).toMatch(/^text\/html/)
    expect(await page.text()).not.toMatch(/StorageError|Postgres|\.ts:\d+/)
  })

  it('keeps any other failure a 500 without detail', async () => {
    const { as } = await createTestServer({ store: await failingStore(new Error('boom at secret.ts:1:2')) })
    const token = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      client_id: 'c',
      refresh_token: 'r',
    })
    expect(token.status).toBe(500)
    expect(token.headers.get('retry-after')).toBeNull()
    expect(await token.text()).not.toContain('boom')
  })

  it('classifies what pg and the socket report when the server goes away, and nothing else', () => {
    const pgError = (code: string) => Object.assign(new Error('x'), { code })
    expect(isUnavailable(pgError('57P01'))).toBe(true) // admin_shutdown: a restart
    expect(isUnavailable(pgError('57P03'))).toBe(true) // cannot_connect_now: starting up
    expect(isUnavailable(pgError('08006'))).toBe(true) // connection_failure
    expect(isUnavailable(pgError('ECONNREFUSED'))).toBe(true)
    expect(isUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true)
    expect(isUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true)
    expect(isUnavailable(pgError('23505'))).toBe(false) // unique_violation
    expect(isUnavailable(pgError('40001'))).toBe(false) // serialization_failure
    expect(isUnavailable(new Error('syntax error'))).toBe(false)
    expect(isUnavailable(undefined)).toBe(false)
  })
})
