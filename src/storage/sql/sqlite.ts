/**
 * The SQLite Store (`portcullis/storage/sqlite`): the embedded default, one file, for one machine.
 *
 * - WAL mode, so readers never block the writer and a reader never sees half a transaction.
 * - `synchronous=NORMAL` by default: in WAL mode a committed transaction survives the process
 *   being killed (SIGKILL, crash), because it is in the WAL file the moment `COMMIT` returns; only
 *   an operating-system crash or power loss can lose the last transactions. `synchronous: 'full'`
 *   fsyncs each commit and survives those too, at a cost in write speed.
 * - Every transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, so a transaction
 *   that reads then writes can never be overtaken by another process, and waits (`busy_timeout`)
 *   instead of failing when another process holds the lock.
 * - Migrations run at start-up inside one such transaction, so two processes starting at once on
 *   one file apply them exactly once.
 * - Statements are prepared once and kept; the token and registration endpoints' operations are
 *   hand-written statements (`sqlite-statements.ts`), and their writes share group commits (one
 *   transaction per turn of the event loop, each write in its own savepoint; a write's promise
 *   settles once its `COMMIT` returned; see `sqlite-driver.ts`).
 * - WAL checkpoints run on a worker thread, so their copying and fsyncs never stall the event loop
 *   (`sqlite-checkpointer.ts`).
 *
 * Within one process, share one store per file: SQLite's lock waits are synchronous, so two
 * stores on one file in one process can wait on each other.
 *
 * @see [SQLite WAL](https://www.sqlite.org/wal.html)
 * @see [PRAGMA synchronous](https://www.sqlite.org/pragma.html#pragma_synchronous)
 * @module
 */

import Database from 'better-sqlite3'
import { Kysely } from 'kysely'
import { importKeyring } from '../crypto.js'
import type { Store, StoreOptions } from '../types.js'
import { migrateToLatest, type Database as Schema } from './schema.js'
import { createSqlStore } from './sql-store.js'
import { BACKSTOP_AUTOCHECKPOINT_PAGES, type Checkpointer, startCheckpointer } from './sqlite-checkpointer.js'
import { GatedSqliteDialect, SqliteConnectionGate } from './sqlite-driver.js'
import { withSqliteStatements } from './sqlite-statements.js'

const DEFAULT_CACHE_KIB = 65_536

// SQLite's default automatic checkpoint threshold, in pages.
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** The database file; created when missing. `':memory:'` for a private in-memory database. */
  filename: string
  /** How long to wait for another process's write lock, in milliseconds. Default 5000. */
  busyTimeoutMs?: number
  /** `'normal'` (default) survives process kills; `'full'` also survives power loss. */
  synchronous?: 'normal' | 'full'
  /** The page cache's upper bound, in KiB. Default 65536 (64 MiB); memory is taken as pages are read. */
  cacheSizeKiB?: number
  /**
   * Run WAL checkpoints on a worker thread instead of inside commits, so they never stall the event
   * loop (see `sqlite-checkpointer.ts`). Default `true` for a file, ignored for `':memory:'`.
   */
  backgroundCheckpoints?: boolean
}

/**
 * Opens (creating and migrating when needed) a SQLite Store.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from 'portcullis/storage/sqlite'
 * const store = await createSqliteStore({ filename: 'portcullis.db', encryptionKey: process.env.PORTCULLIS_KEK! })
 * ```
 */
export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const keys = await importKeyring(options.encryptionKey)
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000
  const sqlite = new Database(options.filename, { timeout: busyTimeoutMs })
  try {
    sqlite.pragma('journal_mode = WAL')
    const synchronous = options.synchronous === 'full' ? 'FULL' : 'NORMAL'
    sqlite.pragma(`synchronous = ${synchronous}`)
    // Up to 64 MiB of pages in memory (SQLite's default is 2 MiB): clients, codes and tokens are
    // looked up by random keys, so a small cache turns most lookups into reads from the file.
    sqlite.pragma(`cache_size = -${options.cacheSizeKiB ?? DEFAULT_CACHE_KIB}`)
    const gate = new SqliteConnectionGate(sqlite)
    const db = new Kysely<Schema>({ dialect: new GatedSqliteDialect(sqlite, gate) })
    await migrateToLatest(db, 'sqlite')
    let checkpointer: Checkpointer | undefined
    if (
      options.backgroundCheckpoints !== false &&
      options.filename !== ':memory:' &&
      options.filename !== ''
    ) {
      checkpointer = startCheckpointer({
        filename: options.filename,
        synchronous,
        busyTimeoutMs,
        // Without the worker, the usual automatic checkpoints take over again.
        onError: () => {
          if (sqlite.open) sqlite.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`)
        },
      })
      sqlite.pragma(`wal_autocheckpoint = ${BACKSTOP_AUTOCHECKPOINT_PAGES}`)
    }
    const store = createSqlStore({
      db,
      dialect: 'sqlite',
      keys,
      options,
      async close() {
        await checkpointer?.stop()
        await db.destroy()
      },
    })
    return withSqliteStatements(store, gate, options)
  } catch (error) {
    sqlite.close()
    throw error
  }
}
