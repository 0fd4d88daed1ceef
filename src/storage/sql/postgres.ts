/**
 * The Postgres Store (`portcullis/storage/postgres`): how several authorization-server replicas
 * share state behind a load balancer.
 *
 * Racing operations are single conditional statements or transactions that lock the rows they
 * decide on (`SELECT … FOR UPDATE`), at Postgres's default READ COMMITTED isolation. Migrations
 * run at start-up under a session advisory lock, so replicas starting together apply them once.
 *
 * @see [PostgreSQL: explicit locking](https://www.postgresql.org/docs/current/explicit-locking.html)
 * @module
 */

import { Kysely, PostgresDialect } from 'kysely'
import pg from 'pg'
import { importKeyring } from '../crypto.js'
import { StorageError } from '../errors.js'
import type { Store, StoreOptions } from '../types.js'
import { migrateToLatest, type Database as Schema } from './schema.js'
import { createSqlStore } from './sql-store.js'

/** Options of {@link createPostgresStore}: a connection string, or a pool the caller owns. */
export type PostgresStoreOptions = StoreOptions &
  (
    | {
        /** `postgres://user@host:port/database`. The store creates and closes its own pool. */
        connectionString: string
        /** Pool size. Default 10. */
        max?: number
      }
    | {
        /** A pool the caller keeps; `close()` leaves it open. */
        pool: pg.Pool
      }
  )

/**
 * Connects to Postgres, migrates the schema, and returns a Store.
 *
 * @example
 * ```ts
 * import { createPostgresStore } from 'portcullis/storage/postgres'
 * const store = await createPostgresStore({ connectionString: process.env.DATABASE_URL!, encryptionKey: process.env.PORTCULLIS_KEK! })
 * ```
 */
export async function createPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const keys = await importKeyring(options.encryptionKey)
  const owned = 'connectionString' in options
  if (owned && options.connectionString === '') {
    throw new StorageError('ERR_STORAGE_CONFIG', 'a Postgres connection string is required')
  }
  let pool: pg.Pool
  if (owned) {
    pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 })
    // An idle client losing its connection (server restart, failover) is dropped by the pool and
    // the next query reconnects; without a listener the 'error' event would end the process.
    pool.on('error', () => {})
  } else {
    pool = options.pool
  }
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool }) })
  const close = async () => {
    // Kysely's destroy ends the pool; a caller's pool must stay open.
    if (owned) await db.destroy()
  }
  try {
    await migrateToLatest(db, 'postgres')
  } catch (error) {
    await close()
    throw error
  }
  return createSqlStore({ db, dialect: 'postgres', keys, options, close })
}
