import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { describe, expect, it } from 'vitest'
import { randomToken } from '../../src/protocol/random.js'
import { TABLES } from '../../src/storage/sql/schema.js'
import { createSqliteStore } from '../../src/storage/sql/sqlite.js'
import { storeContract } from './contract.js'

/** Every row of every table. */
function rawSqlite(filename: string): string {
  const db = new Database(filename, { readonly: true })
  try {
    return TABLES.map((t) => JSON.stringify(db.prepare(`select * from ${t}`).all())).join('\n')
  } finally {
    db.close()
  }
}

/** The bytes of the database file and its WAL, freed pages included. */
function fileBytes(filename: string): string {
  return [filename, `${filename}-wal`]
    .map((f) => {
      try {
        return readFileSync(f).toString('latin1')
      } catch {
        return ''
      }
    })
    .join('\n')
}

storeContract(
  'sqlite',
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'))
    const filename = join(dir, 'store.db')
    const encryptionKey = randomToken(32)
    const store = await createSqliteStore({ filename, encryptionKey })
    return {
      store,
      raw: async () => rawSqlite(filename),
      bytes: async () => fileBytes(filename),
      openSecond: () => createSqliteStore({ filename, encryptionKey }),
      async cleanup() {
        await store.close()
        rmSync(dir, { recursive: true, force: true })
      },
    }
  },
  { sharedDatabase: true },
)

describe('createSqliteStore', () => {
  it('opens the file in WAL mode, migrates once, and reopens without migrating again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'))
    const filename = join(dir, 'store.db')
    const encryptionKey = randomToken(32)
    try {
      const first = await createSqliteStore({ filename, encryptionKey })
      await first.grants.create({
        id: 'g',
        subject: 's',
        client_id: 'c',
        resource: 'r',
        scopes: [],
        created_at: 1,
      })
      await first.close()
      const second = await createSqliteStore({ filename, encryptionKey })
      expect((await second.grants.get('g', 2))?.subject).toBe('s')
      await second.close()
      const db = new Database(filename, { readonly: true })
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal')
      expect(db.prepare('select name from portcullis_migration').all()).toEqual([{ name: '0001_initial' }])
      db.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('marks access-token rows of older releases (issued unrevoked) when their grant is revoked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'))
    const filename = join(dir, 'store.db')
    try {
      const store = await createSqliteStore({ filename, encryptionKey: randomToken(32) })
      for (const id of ['g-old', 'g-other']) {
        await store.grants.create({
          id,
          subject: 's',
          client_id: 'c',
          resource: 'r',
          scopes: [],
          created_at: 1,
        })
      }
      // An issuance record as earlier versions wrote one for every token.
      const raw = new Database(filename)
      const insert = raw.prepare(
        `insert into portcullis_access_tokens (jti, grant_id, client_id, subject, resource, scopes, expires_at, revoked_at)
         values (?, ?, 'c', 's', 'r', '[]', 10000, null)`,
      )
      insert.run('at-old', 'g-old')
      insert.run('at-other', 'g-other')
      raw.close()
      expect((await store.accessTokens.get('at-old', 2))?.revoked_at).toBeUndefined()
      expect(await store.grants.revoke('g-old', 5)).toBe(true)
      expect((await store.accessTokens.get('at-old', 6))?.revoked_at).toBe(5)
      expect((await store.accessTokens.get('at-other', 6))?.revoked_at).toBeUndefined()
      await store.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('cannot read sealed values with another key-encryption key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-'))
    const filename = join(dir, 'store.db')
    try {
      const first = await createSqliteStore({ filename, encryptionKey: randomToken(32) })
      await first.upstreamTokens.put('g', { access_token: 'a' })
      await first.close()
      const other = await createSqliteStore({ filename, encryptionKey: randomToken(32) })
      await expect(other.upstreamTokens.get('g', 0)).rejects.toMatchObject({ code: 'ERR_STORAGE_DECRYPT' })
      await other.close()
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
