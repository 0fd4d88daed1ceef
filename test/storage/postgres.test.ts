import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomToken } from '../../src/protocol/random.js'
import { createPostgresStore } from '../../src/storage/sql/postgres.js'
import { TABLE_SPECS, TABLES } from '../../src/storage/sql/schema.js'
import { type TestDatabase, withPostgres } from '../support/postgres.js'
import { storeContract } from './contract.js'

let database: TestDatabase
let admin: pg.Pool

beforeAll(async () => {
  database = await withPostgres()
  admin = new pg.Pool({ connectionString: database.url, max: 2 })
})

afterAll(async () => {
  await admin?.end()
  await database?.drop()
})

async function rawPostgres(): Promise<string> {
  const parts: string[] = []
  for (const table of TABLES) {
    const { rows } = await admin.query(`select row_to_json(t)::text as row from ${table} t`)
    parts.push(...rows.map((r: { row: string }) => r.row))
  }
  return parts.join('\n')
}

storeContract(
  'postgres',
  async () => {
    const encryptionKey = randomToken(32)
    const store = await createPostgresStore({ connectionString: database.url, encryptionKey })
    for (const table of TABLES) await admin.query(`delete from ${table}`)
    return {
      store,
      raw: rawPostgres,
      openSecond: () => createPostgresStore({ connectionString: database.url, encryptionKey }),
      cleanup: () => store.close(),
    }
  },
  { sharedDatabase: true },
)

describe('createPostgresStore', () => {
  it('migrates exactly once when several replicas start at the same moment', async () => {
    const fresh = await withPostgres()
    try {
      const encryptionKey = randomToken(32)
      const stores = await Promise.all(
        Array.from({ length: 4 }, () => createPostgresStore({ connectionString: fresh.url, encryptionKey })),
      )
      await Promise.all(stores.map((s) => s.close()))
      const client = new pg.Client({ connectionString: fresh.url })
      await client.connect()
      const { rows } = await client.query('select name from portcullis_migration')
      await client.end()
      expect(rows).toEqual([{ name: '0001_initial' }])
    } finally {
      await fresh.drop()
    }
  })

  it('migrates to the columns, NOT NULLs and indexes TABLE_SPECS declares', async () => {
    const store = await createPostgresStore({
      connectionString: database.url,
      encryptionKey: randomToken(32),
    })
    await store.close()
    for (const [table, spec] of Object.entries(TABLE_SPECS)) {
      const columns = await admin.query(
        `select column_name, data_type, is_nullable from information_schema.columns
          where table_schema = 'public' and table_name = $1 order by ordinal_position`,
        [table],
      )
      expect(columns.rows).toEqual(
        Object.entries<string>(spec.columns).map(([name, declared]) => ({
          column_name: name,
          data_type: declared.startsWith('serial') ? 'bigint' : declared.split(' ')[0],
          is_nullable: declared.includes(' ') ? 'NO' : 'YES',
        })),
      )
      const indexes = await admin.query(
        `select indexname from pg_indexes where schemaname = 'public' and tablename = $1
          and indexname not in ($1 || '_pkey', $1 || '_pk') order by indexname`,
        [table],
      )
      const declared = spec.indexes.map((c) => `${table}_${c.join('_')}_idx`)
      expect(indexes.rows.map((r: { indexname: string }) => r.indexname)).toEqual(declared.sort())
    }
  })

  it('leaves a caller-owned pool open on close', async () => {
    const pool = new pg.Pool({ connectionString: database.url, max: 2 })
    const store = await createPostgresStore({ pool, encryptionKey: randomToken(32) })
    await store.close()
    expect((await pool.query('select 1 as one')).rows).toEqual([{ one: 1 }])
    await pool.end()
  })
})
