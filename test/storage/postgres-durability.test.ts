import pg from 'pg'
import { expect, it } from 'vitest'
import { randomToken } from '../../src/protocol/random.js'
import { createPostgresStore } from '../../src/storage/sql/postgres.js'
import { withPostgres } from '../support/postgres.js'
import { killWritersAndCheck } from './durability.js'

it('keeps every committed write of two processes sharing one database when both are killed', async () => {
  const database = await withPostgres()
  const key = randomToken(32)
  try {
    await killWritersAndCheck('postgres', database.url, key, () =>
      createPostgresStore({ connectionString: database.url, encryptionKey: key }),
    )
    const client = new pg.Client({ connectionString: database.url })
    await client.connect()
    const { rows } = await client.query('select name from portcullis_migration')
    await client.end()
    expect(rows).toEqual([{ name: '0001_initial' }])
  } finally {
    await database.drop()
  }
}, 120_000)
