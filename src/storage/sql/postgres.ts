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

import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely'
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

// Connection exceptions (08), operator intervention (57P01 admin shutdown, 57P02 crash shutdown,
// 57P03 cannot connect now), and what pg and the socket report when the server goes away.
const UNAVAILABLE_CODES = new Set([
  '57P01',
  '57P02',
  '57P03',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
])
const UNAVAILABLE_MESSAGES = /Connection terminated|not queryable|timeout exceeded when trying to connect/

/** Whether `error` says the server cannot be reached, as opposed to a failed statement. */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true
  return error instanceof Error && code === undefined && UNAVAILABLE_MESSAGES.test(error.message)
}

function unavailable(cause: unknown): unknown {
  return isUnavailable(cause)
    ? new StorageError('ERR_STORAGE_UNAVAILABLE', 'the Postgres server cannot be reached', { cause })
    : cause
}

/** The pool as Kysely sees it, with "server unreachable" failures raised as `ERR_STORAGE_UNAVAILABLE`. */
function guardPool(pool: pg.Pool): PostgresPool {
  // Kysely keeps one connection object per client: the wrappers are kept per client too.
  const wrappers = new WeakMap<pg.PoolClient, PostgresPoolClient>()
  return {
    async connect() {
      let client: pg.PoolClient
      try {
        client = await pool.connect()
      } catch (error) {
        throw unavailable(error)
      }
      let wrapper = wrappers.get(client)
      if (wrapper === undefined) {
        const inner = client
        wrapper = {
          query: ((...args: Parameters<pg.PoolClient['query']>) => {
            const result = (inner.query as (...a: unknown[]) => unknown)(...args)
            return result instanceof Promise
              ? result.catch((error: unknown) => Promise.reject(unavailable(error)))
              : result
          }) as PostgresPoolClient['query'],
          release: (destroy?: boolean) => inner.release(destroy),
        }
        wrappers.set(client, wrapper)
      }
      return wrapper
    },
    end: () => pool.end(),
  }
}

/**
 * Connects to Postgres, migrates the schema, and returns a Store. When the server cannot be
 * reached (down, restarting) operations reject with `ERR_STORAGE_UNAVAILABLE` and the pool
 * reconnects once it is back.
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
    pool = new pg.Pool({
      connectionString: options.connectionString,
      max: options.max ?? 10,
      // A server that accepts but never answers must not hold requests forever.
      connectionTimeoutMillis: 5000,
    })
    // An idle client losing its connection (server restart, failover) is dropped by the pool and
    // the next query reconnects; without a listener the 'error' event would end the process.
    pool.on('error', () => {})
    // The same for a client checked out between two statements (inside a transaction): the pool
    // listens only to idle ones. The failing statement rejects, and the pool drops the client.
    pool.on('connect', (client) => {
      client.on('error', () => {})
    })
  } else {
    pool = options.pool
  }
  const db = new Kysely<Schema>({ dialect: new PostgresDialect({ pool: guardPool(pool) }) })
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
