import pg from 'pg'
import { expect, it } from 'vitest'
import { randomToken } from '../../src/protocol/random.js'
import { createPostgresStore } from '../../src/storage/sql/postgres.js'
import { withPostgres } from './postgres.js'

it('starts a throwaway cluster when told to (as on a machine without a server), and stops it after', async () => {
  process.env['PORTCULLIS_TEST_POSTGRES_THROWAWAY'] = '1'
  let url: string
  try {
    const database = await withPostgres()
    url = database.url
    expect(new URL(url).port).not.toBe('5432')
    expect(new URL(url).hostname).toBe('127.0.0.1')
    const store = await createPostgresStore({ connectionString: url, encryptionKey: randomToken(32) })
    expect(await store.jtis.markUsed('iss', 'j', 2, 1)).toBe(true)
    expect(await store.jtis.markUsed('iss', 'j', 2, 1)).toBe(false)
    await store.close()
    await database.drop()
  } finally {
    delete process.env['PORTCULLIS_TEST_POSTGRES_THROWAWAY']
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  await expect(client.connect()).rejects.toThrow()
}, 120_000)
