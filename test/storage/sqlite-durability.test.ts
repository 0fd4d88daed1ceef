import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { expect, it } from 'vitest'
import { randomToken } from '../../src/protocol/random.js'
import { createSqliteStore } from '../../src/storage/sql/sqlite.js'
import { killWritersAndCheck } from './durability.js'

it('keeps every committed write and stays uncorrupted when writers are killed with SIGKILL', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-durable-'))
  const filename = join(dir, 'store.db')
  const key = randomToken(32)
  try {
    await killWritersAndCheck('sqlite', filename, key, () =>
      createSqliteStore({ filename, encryptionKey: key }),
    )
    const db = new Database(filename)
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok')
    // Both writers started on a fresh file at once: the migration ran exactly once.
    expect(db.prepare('select name from portcullis_migration').all()).toEqual([{ name: '0001_initial' }])
    db.close()
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}, 120_000)
