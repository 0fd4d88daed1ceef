/**
 * A Kysely driver for better-sqlite3 that keeps the prepared statements, plus direct access to the
 * one connection for the store's hand-written statements, with group commit.
 *
 * - Statements are prepared once per SQL text and kept (Kysely's own SQLite driver prepares every
 *   statement again on every call).
 * - One mutex guards the connection, as in Kysely's driver: a Kysely transaction holds it from
 *   `BEGIN IMMEDIATE` to `COMMIT`. {@link SqliteConnectionGate.read} and
 *   {@link SqliteConnectionGate.write} run their synchronous work only while it is free, so they
 *   never run inside someone else's open transaction.
 * - The hand-written reads of one turn of the event loop share one read transaction, ended before
 *   any write or Kysely query and at the end of the turn.
 * - Group commit: writes queued during one turn of the event loop run in one `BEGIN IMMEDIATE …
 *   COMMIT`, each in its own savepoint, so one failing write undoes only itself. A write's promise
 *   settles only after the `COMMIT` has returned (in WAL mode the transaction is then in the WAL
 *   file and survives a killed process); if the commit fails, every write of the batch rejects.
 *
 * @see [SQLite transactions](https://www.sqlite.org/lang_transaction.html) `BEGIN IMMEDIATE`
 * @see [SQLite savepoints](https://www.sqlite.org/lang_savepoint.html)
 * @module
 */

import type Database from 'better-sqlite3'
import {
  CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  SqliteAdapter,
  SqliteDialect,
  SqliteQueryCompiler,
} from 'kysely'

type Statement = Database.Statement<unknown[], unknown>

// Enough for every distinct statement the store issues; past it the oldest is dropped.
const MAX_CACHED_STATEMENTS = 256

/** The connection's mutex: a FIFO hand-off lock. */
class Mutex {
  #locked = false
  #waiters: (() => void)[] = []

  get locked(): boolean {
    return this.#locked
  }

  lock(): Promise<void> {
    if (!this.#locked) {
      this.#locked = true
      return Promise.resolve()
    }
    return new Promise((resolve) => this.#waiters.push(resolve))
  }

  unlock(): void {
    const next = this.#waiters.shift()
    if (next === undefined) this.#locked = false
    else next()
  }
}

interface QueuedWrite {
  run(): unknown
  /** The write changes the database in at most one statement, which SQLite undoes by itself on failure. */
  singleStatement: boolean
  resolve(value: unknown): void
  reject(error: unknown): void
}

/** The one connection, its statement cache and its lock, shared by Kysely and the store. */
export class SqliteConnectionGate {
  readonly #db: Database.Database
  readonly #statements = new Map<string, Statement>()
  readonly #mutex = new Mutex()
  #queue: QueuedWrite[] = []
  #scheduled = false
  #reading = false

  constructor(db: Database.Database) {
    this.#db = db
  }

  /** The statement for `sql`, prepared on first use. */
  prepare(sql: string): Statement {
    let statement = this.#statements.get(sql)
    if (statement === undefined) {
      statement = this.#db.prepare(sql)
      if (this.#statements.size >= MAX_CACHED_STATEMENTS) {
        this.#statements.delete(this.#statements.keys().next().value as string)
      }
      this.#statements.set(sql, statement)
    }
    return statement
  }

  /** Takes the connection (for Kysely). */
  async lock(): Promise<void> {
    await this.#mutex.lock()
    this.#endReads()
  }

  /** Releases the connection (for Kysely). */
  unlock(): void {
    this.#mutex.unlock()
  }

  /**
   * Runs synchronous reads when no other transaction is open on the connection. The reads of one
   * turn of the event loop share one read transaction (one snapshot, taken at the first of them,
   * ended before any write and at the end of the turn): starting and ending a transaction per
   * statement costs more than a lookup by key.
   */
  async read<T>(run: () => T): Promise<T> {
    if (!this.#mutex.locked) {
      if (!this.#reading) {
        this.prepare('begin').run()
        this.#reading = true
        setImmediate(() => this.#endReads())
      }
      return run()
    }
    await this.#mutex.lock()
    try {
      return run()
    } finally {
      this.#mutex.unlock()
    }
  }

  /** Ends the shared read transaction, if one is open. */
  #endReads(): void {
    if (!this.#reading) return
    this.#reading = false
    if (this.#db.inTransaction) this.prepare('commit').run()
  }

  /** Ends the shared read transaction before the connection closes. */
  release(): void {
    if (this.#db.open) this.#endReads()
  }

  /**
   * Runs synchronous writes (and the reads they decide on) atomically, in the next group commit.
   * Resolves once committed. `singleStatement`: `run` changes the database in at most one
   * statement, so it needs no savepoint of its own.
   */
  write<T>(run: () => T, options: { singleStatement?: boolean } = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        run,
        singleStatement: options.singleStatement === true,
        resolve: resolve as (value: unknown) => void,
        reject,
      })
      if (!this.#scheduled) {
        this.#scheduled = true
        setImmediate(() => void this.#flush())
      }
    })
  }

  async #flush(): Promise<void> {
    await this.#mutex.lock()
    this.#endReads()
    this.#scheduled = false
    const batch = this.#queue
    this.#queue = []
    try {
      this.#commit(batch)
    } finally {
      this.#mutex.unlock()
    }
  }

  #commit(batch: QueuedWrite[]): void {
    const outcomes: { ok: boolean; value: unknown }[] = []
    try {
      this.prepare('begin immediate').run()
    } catch (error) {
      for (const w of batch) w.reject(error)
      return
    }
    const savepoints = batch.length > 1
    for (const w of batch) {
      if (!this.#db.inTransaction) {
        // A failed write took the transaction down with it (I/O error, full disk): nothing of
        // this batch is committed.
        outcomes.push({ ok: false, value: new Error('the transaction was rolled back') })
        continue
      }
      const savepoint = savepoints && !w.singleStatement
      if (savepoint) this.prepare('savepoint portcullis_write').run()
      try {
        const value = w.run()
        if (savepoint) this.prepare('release portcullis_write').run()
        outcomes.push({ ok: true, value })
      } catch (error) {
        if (savepoint && this.#db.inTransaction) {
          this.prepare('rollback to portcullis_write').run()
          this.prepare('release portcullis_write').run()
        }
        outcomes.push({ ok: false, value: error })
      }
    }
    let failure: unknown
    if (!savepoints && outcomes[0]?.ok === false) {
      // A lone write that failed: undo whatever part of it ran.
      if (this.#db.inTransaction) this.prepare('rollback').run()
      batch[0]!.reject(outcomes[0].value)
      return
    }
    if (this.#db.inTransaction) {
      try {
        this.prepare('commit').run()
      } catch (error) {
        failure = error
        if (this.#db.inTransaction) this.prepare('rollback').run()
      }
    } else {
      failure = outcomes.find((o) => !o.ok)?.value ?? new Error('the transaction was rolled back')
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i]!
      if (failure !== undefined) w.reject(outcome.ok ? failure : outcome.value)
      else if (outcome.ok) w.resolve(outcome.value)
      else w.reject(outcome.value)
    })
  }
}

class GatedConnection implements DatabaseConnection {
  readonly #gate: SqliteConnectionGate

  constructor(gate: SqliteConnectionGate) {
    this.#gate = gate
  }

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    const statement = this.#gate.prepare(compiledQuery.sql)
    const parameters = compiledQuery.parameters as unknown[]
    if (statement.reader) return Promise.resolve({ rows: statement.all(parameters) as R[] })
    const { changes, lastInsertRowid } = statement.run(parameters)
    return Promise.resolve({
      numAffectedRows: BigInt(changes),
      insertId: BigInt(lastInsertRowid),
      rows: [],
    })
  }

  // biome-ignore lint/correctness/useYield: streaming is not offered; the store never streams.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported')
  }
}

class GatedDriver implements Driver {
  readonly #gate: SqliteConnectionGate
  readonly #connection: GatedConnection
  readonly #db: Database.Database

  constructor(db: Database.Database, gate: SqliteConnectionGate) {
    this.#db = db
    this.#gate = gate
    this.#connection = new GatedConnection(gate)
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    await this.#gate.lock()
    return this.#connection
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    // IMMEDIATE: the write lock from the start, so a read-then-write is never overtaken.
    await connection.executeQuery(CompiledQuery.raw('begin immediate'))
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('commit'))
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('rollback'))
  }

  async releaseConnection(): Promise<void> {
    this.#gate.unlock()
  }

  async destroy(): Promise<void> {
    this.#gate.release()
    this.#db.close()
  }
}

/** SQLite runs DDL in transactions; saying so makes Kysely's migrator use one (and so the lock). */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true
  }
}

/** Kysely's SQLite dialect over a {@link SqliteConnectionGate}. */
export class GatedSqliteDialect extends SqliteDialect {
  readonly #db: Database.Database
  readonly #gate: SqliteConnectionGate

  constructor(db: Database.Database, gate: SqliteConnectionGate) {
    super({ database: db })
    this.#db = db
    this.#gate = gate
  }

  override createDriver(): Driver {
    return new GatedDriver(this.#db, this.#gate)
  }

  override createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler()
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter()
  }
}
