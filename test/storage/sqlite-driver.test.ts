import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { Kysely } from 'kysely'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GatedSqliteDialect, SqliteConnectionGate } from '../../src/storage/sql/sqlite-driver.js'

interface Schema {
  t: { k: string; v: number }
}

let dir: string
let file: string
let sqlite: Database.Database
let gate: SqliteConnectionGate
let db: Kysely<Schema>

/** What another connection (another process, in effect) sees. */
function committed(): { k: string; v: number }[] {
  const other = new Database(file, { readonly: true })
  try {
    return other.prepare('select k, v from t order by k').all() as { k: string; v: number }[]
  } finally {
    other.close()
  }
}

const insert = (k: string, v: number) => () => gate.prepare('insert into t (k, v) values (?, ?)').run(k, v)

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-gate-'))
  file = join(dir, 'gate.db')
  sqlite = new Database(file)
  sqlite.pragma('journal_mode = WAL')
  sqlite.exec('create table t (k text primary key, v integer not null)')
  gate = new SqliteConnectionGate(sqlite)
  db = new Kysely<Schema>({ dialect: new GatedSqliteDialect(sqlite, gate) })
})

afterEach(async () => {
  await db.destroy()
  rmSync(dir, { recursive: true, force: true })
})

describe('SqliteConnectionGate', () => {
  it('prepares each statement once', () => {
    expect(gate.prepare('select 1')).toBe(gate.prepare('select 1'))
  })

  it('settles a write only once committed, and groups the writes of one turn', async () => {
    let commits = 0
    const commit = gate.prepare('commit')
    const run = commit.run.bind(commit)
    commit.run = (...args: unknown[]) => {
      commits++
      return run(...args)
    }
    const writes = [gate.write(insert('a', 1)), gate.write(insert('b', 2)), gate.write(insert('c', 3))]
    expect(committed()).toEqual([])
    await Promise.all(writes)
    expect(committed()).toEqual([
      { k: 'a', v: 1 },
      { k: 'b', v: 2 },
      { k: 'c', v: 3 },
    ])
    expect(commits).toBe(1)
  })

  it('undoes only the failing write of a batch, the part of it that ran included', async () => {
    const failing = gate.write(() => {
      insert('x', 1)()
      throw new Error('refused')
    })
    const conflicting = gate.write(insert('a', 9), { singleStatement: true })
    const fine = gate.write(insert('b', 2), { singleStatement: true })
    const first = gate.write(insert('a', 1), { singleStatement: true })
    await expect(failing).rejects.toThrow('refused')
    // Queue order is kept: a=9 went in first, so the later a=1 hits the key and fails alone.
    await expect(conflicting).resolves.toBeDefined()
    await expect(first).rejects.toThrow(/UNIQUE/)
    await fine
    expect(committed()).toEqual([
      { k: 'a', v: 9 },
      { k: 'b', v: 2 },
    ])
  })

  it('rolls back a lone failing write entirely', async () => {
    await expect(
      gate.write(() => {
        insert('x', 1)()
        throw new Error('refused')
      }),
    ).rejects.toThrow('refused')
    expect(committed()).toEqual([])
    expect(sqlite.inTransaction).toBe(false)
  })

  it('never runs a write inside a Kysely transaction, which may roll back', async () => {
    let queued: Promise<unknown> | undefined
    await expect(
      db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ k: 'k', v: 1 }).execute()
        queued = gate.write(insert('w', 2))
        // Let the group commit's turn come and go while the transaction is open.
        await new Promise((resolve) => setImmediate(resolve))
        await new Promise((resolve) => setImmediate(resolve))
        throw new Error('abort')
      }),
    ).rejects.toThrow('abort')
    await queued
    expect(committed()).toEqual([{ k: 'w', v: 2 }])
  })

  it('reads see every write awaited before them, and share one transaction per turn', async () => {
    await gate.write(insert('a', 1))
    const count = () => (gate.prepare('select count(*) as n from t').get() as { n: number }).n
    expect(await gate.read(count)).toBe(1)
    expect(sqlite.inTransaction).toBe(true)
    await new Promise((resolve) => setImmediate(resolve))
    expect(sqlite.inTransaction).toBe(false)
    await gate.write(insert('b', 2))
    expect(await gate.read(count)).toBe(2)
    // A Kysely query ends the shared read first.
    expect(await db.selectFrom('t').select('k').execute()).toHaveLength(2)
  })
})
