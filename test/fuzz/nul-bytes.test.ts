/**
 * A NUL byte in a client id, on Postgres (whose text columns cannot hold one): the client is
 * unknown, never a 500. Found by the fuzz run (`client_id=%00` on /token and /introspect).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../src/storage/sql/postgres.js'
import type { Store } from '../../src/storage/types.js'
import {
  authorizeUrl,
  createTestServer,
  pkce,
  postForm,
  REDIRECT,
  RESOURCE,
  type TestServer,
} from '../authorization-server/support.js'
import { type TestDatabase, withPostgres } from '../support/postgres.js'

describe('NUL bytes in client ids on Postgres', () => {
  let database: TestDatabase
  let store: Store
  let server: TestServer

  beforeAll(async () => {
    database = await withPostgres()
    store = await createPostgresStore({ connectionString: database.url, encryptionKey: 'k'.repeat(43) })
    server = await createTestServer({ store, onAudit: () => {} })
  }, 60_000)

  afterAll(async () => {
    await store?.close()
    await database?.drop()
  })

  it('answers invalid_client on the token, revocation and introspection endpoints', async () => {
    for (const path of ['/token', '/revoke', '/introspect']) {
      const response = await postForm(server.as, path, {
        grant_type: 'refresh_token',
        refresh_token: 'x',
        token: 'x',
        client_id: 'a\u0000b',
      })
      expect({ path, status: response.status }).toEqual({ path, status: 401 })
      expect(((await response.json()) as { error: string }).error).toBe('invalid_client')
    }
  })

  it('answers invalid_client for a NUL in HTTP Basic credentials', async () => {
    const basic = Buffer.from('\u0000:secret').toString('base64')
    const response = await postForm(
      server.as,
      '/token',
      { grant_type: 'refresh_token', refresh_token: 'x' },
      { authorization: `Basic ${basic}` },
    )
    expect(response.status).toBe(401)
  })

  it('shows the unknown-application page on the authorization endpoint', async () => {
    const { challenge } = await pkce()
    const response = await server.as.fetch(
      new Request(
        authorizeUrl({
          response_type: 'code',
          client_id: '\u0000',
          redirect_uri: REDIRECT,
          code_challenge: challenge,
          code_challenge_method: 'S256',
          resource: RESOURCE,
        }),
      ),
    )
    expect(response.status).toBe(400)
    expect(await response.text()).toContain('not registered here')
  })
})
