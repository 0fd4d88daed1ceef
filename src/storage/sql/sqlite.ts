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
 *
 * Within one process, share one store per file: SQLite's lock waits are synchronous, so two
 * stores on one file in one process can wait on each other.
 *
 * @see [SQLite WAL](https://www.sqlite.org/wal.html)
 * @see [PRAGMA synchronous](https://www.sqlite.org/pragma.html#pragma_synchronous)
 * @module
 */

import Database from 'better-sqlite3'
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  Kysely,
  SqliteAdapter,
  SqliteDialect,
} from 'kysely'
import { importKeyring } from '../crypto.js'
import type { Store, StoreOptions } from '../types.js'
import { migrateToLatest, type Database as Schema } from './schema.js'
import { createSqlStore } from './sql-store.js'

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions extends StoreOptions {
  /** The database file; created when missing. `':memory:'` for a private in-memory database. */
  filename: string
  /** How long to wait for another process's write lock, in milliseconds. Default 5000. */
  busyTimeoutMs?: number
  /** `'normal'` (default) survives process kills; `'full'` also survives power loss. */
  synchronous?: 'normal' | 'full'
}

/** SQLite runs DDL in transactions; saying so makes Kysely's migrator use one (and so the lock). */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}

/** Kysely's SQLite dialect, with `BEGIN IMMEDIATE` transactions. */
class ImmediateSqliteDialect extends SqliteDialect {
  override createDriver(): Driver {
    const driver = super.createDriver()
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'))
    }
    return driver
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter()
  }
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
  const sqlite = new Database(options.filename, { timeout: options.busyTimeoutMs ?? 5000 })
  try {
    sqlite.pragma('journal_mode = WAL')
    sqlite.pragma(`synchronous = ${options.synchronous === 'full' ? 'FULL' : 'NORMAL'}`)
    const db = new Kysely<Schema>({ dialect: new ImmediateSqliteDialect({ database: sqlite }) })
    await migrateToLatest(db, 'sqlite')
    return createSqlStore({
      db,
      dialect: 'sqlite',
      keys,
      options,
      close: () => db.destroy(),
    })
  } catch (error) {
    sqlite.close()
    throw error
  }
}
