/**
 * Storage benchmark: sequential operations per second of one process, after warm-up.
 *
 * - `*_code_issue_consume_per_s`: store an authorization code, then redeem it (two writes).
 * - `*_refresh_rotate_per_s`: rotate a refresh token (hash checks, sealing the successor under a
 *   key derived from the presented token, one locked transaction), each rotation presenting the
 *   previous successor.
 *
 * Prints one `name=value` line per figure. Postgres: `PORTCULLIS_TEST_POSTGRES_URL`, else the
 * local server on 127.0.0.1:5432, else a throwaway cluster (see test/support/postgres.ts), in a
 * database of its own that is dropped afterwards.
 *
 * Run: npx tsx bench/storage.ts   (BENCH_SECONDS=3 by default)
 */

import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomToken, sha256 } from '../src/protocol/random.js'
import { createPostgresStore } from '../src/storage/sql/postgres.js'
import { createSqliteStore } from '../src/storage/sql/sqlite.js'
import type { Store } from '../src/storage/types.js'
import { withPostgres } from '../test/support/postgres.js'

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 3)
const WARMUP_MS = 500
const HOUR = 3_600_000

async function rate(step: () => Promise<void>): Promise<number> {
  const warmUntil = performance.now() + WARMUP_MS
  while (performance.now() < warmUntil) await step()
  let n = 0
  const start = performance.now()
  const end = start + SECONDS * 1000
  while (performance.now() < end) {
    await step()
    n++
  }
  return Math.round((n * 1000) / (performance.now() - start))
}

async function codeIssueConsume(store: Store): Promise<number> {
  const now = Date.now()
  return rate(async () => {
    const hash = await sha256(randomToken())
    await store.codes.put(hash, {
      grant_id: 'bench',
      client_id: 'bench-client',
      redirect_uri: 'http://127.0.0.1:33418/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      resource: 'https://mcp.example.com/mcp',
      scopes: ['files:read'],
      subject: 'user-1',
      expires_at: now + HOUR,
    })
    const result = await store.codes.consume(hash, now)
    if (result.status !== 'ok') throw new Error(`unexpected ${result.status}`)
  })
}

async function refreshRotate(store: Store): Promise<number> {
  const now = Date.now()
  const grantId = `bench-${randomToken(6)}`
  await store.grants.create({
    id: grantId,
    subject: 'user-1',
    client_id: 'bench-client',
    resource: 'https://mcp.example.com/mcp',
    scopes: ['files:read'],
    created_at: now,
  })
  let token = randomToken()
  let hash = await sha256(token)
  await store.refreshTokens.issue(hash, {
    grant_id: grantId,
    client_id: 'bench-client',
    subject: 'user-1',
    resource: 'https://mcp.example.com/mcp',
    scopes: ['files:read'],
    created_at: now,
    expires_at: now + HOUR,
  })
  return rate(async () => {
    const next = randomToken()
    const nextHash = await sha256(next)
    const result = await store.refreshTokens.rotate({
      presentedHash: hash,
      presentedToken: token,
      client_id: 'bench-client',
      successor: { token: next, hash: nextHash, expires_at: now + HOUR },
      now,
    })
    if (result.status !== 'rotated') throw new Error(`unexpected ${result.status}`)
    token = next
    hash = nextHash
  })
}

const encryptionKey = randomToken(32)

const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'))
try {
  const sqlite = await createSqliteStore({ filename: join(dir, 'bench.db'), encryptionKey })
  console.log(`sqlite_code_issue_consume_per_s=${await codeIssueConsume(sqlite)}`)
  console.log(`sqlite_refresh_rotate_per_s=${await refreshRotate(sqlite)}`)
  await sqlite.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}

const database = await withPostgres()
try {
  const postgres = await createPostgresStore({ connectionString: database.url, encryptionKey })
  console.log(`postgres_code_issue_consume_per_s=${await codeIssueConsume(postgres)}`)
  console.log(`postgres_refresh_rotate_per_s=${await refreshRotate(postgres)}`)
  await postgres.close()
} finally {
  await database.drop()
}
