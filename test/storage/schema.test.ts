import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomToken } from '../../src/protocol/random.js'
import { TABLE_SPECS } from '../../src/storage/sql/schema.js'
import { createSqliteStore } from '../../src/storage/sql/sqlite.js'

interface ColumnInfo {
  name: string
  type: string
  notnull: number
  pk: number
}

const specs = Object.entries(TABLE_SPECS).map(([table, spec]) => ({
  table,
  columns: Object.entries<string>(spec.columns),
  primaryKey: spec.primaryKey as readonly string[] | undefined,
  indexes: spec.indexes,
}))

describe('schema: a migrated SQLite database is what TABLE_SPECS declares', () => {
  let dir: string
  let db: Database.Database

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-schema-'))
    const filename = join(dir, 'store.db')
    const store = await createSqliteStore({ filename, encryptionKey: randomToken(32) })
    await store.close()
    db = new Database(filename, { readonly: true })
  })

  afterAll(() => {
    db?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('has exactly the tables of the spec, besides the migration bookkeeping', () => {
    const tables = db
      .prepare(
        "select name from sqlite_master where type = 'table' and name like 'portcullis\\_%' escape '\\'",
      )
      .all() as { name: string }[]
    const ours = tables.map((t) => t.name).filter((name) => !name.startsWith('portcullis_migration'))
    expect(ours.sort()).toEqual(specs.map((s) => s.table).sort())
  })

  it.each(specs)('$table: columns in order, with their types, NOT NULL and primary key', (spec) => {
    const actual = (db.pragma(`table_info(${spec.table})`) as ColumnInfo[]).map((c) => ({
      name: c.name,
      type: c.type.toLowerCase(),
      notnull: c.notnull,
      pk: c.pk,
    }))
    const expected = spec.columns.map(([name, declared]) => {
      const type = declared.split(' ')[0]
      return {
        name,
        type: type === 'serial' ? 'integer' : type,
        notnull: declared.endsWith(' not null') ? 1 : 0,
        // table_info numbers a key's columns from 1, in key order; 0 is no key column.
        pk: declared.endsWith(' primary key') ? 1 : (spec.primaryKey?.indexOf(name) ?? -1) + 1,
      }
    })
    expect(actual).toEqual(expected)
  })

  it.each(specs)('$table: exactly the indexes of the spec, over their columns', (spec) => {
    const created = (db.pragma(`index_list(${spec.table})`) as { name: string; origin: string }[])
      .filter((i) => i.origin === 'c')
      .map((i) => ({
        name: i.name,
        columns: (db.pragma(`index_info(${i.name})`) as { name: string }[]).map((c) => c.name),
      }))
    const expected = spec.indexes.map((columns) => ({
      name: `${spec.table}_${columns.join('_')}_idx`,
      columns,
    }))
    expect(created.sort((a, b) => a.name.localeCompare(b.name))).toEqual(
      expected.sort((a, b) => a.name.localeCompare(b.name)),
    )
  })

  it('names a composite primary key <table>_pk, and never reuses an audit sequence number', () => {
    const sql = (table: string) =>
      (db.prepare('select sql from sqlite_master where name = ?').get(table) as { sql: string }).sql
    for (const spec of specs.filter((s) => s.primaryKey !== undefined)) {
      expect(sql(spec.table)).toContain(`constraint "${spec.table}_pk" primary key`)
    }
    expect(sql('portcullis_audit')).toContain('"seq" integer primary key autoincrement')
  })
})
