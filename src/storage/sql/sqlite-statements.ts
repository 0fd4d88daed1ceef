/**
 * Hand-written statements for the SQLite store's hot operations (the token endpoint's and the
 * registration endpoint's), run synchronously on the shared connection: reads when no transaction
 * is open, writes in the connection's group commit. The other operations keep the Kysely queries of
 * `sql-store.ts`; both sets keep one schema and pass one contract suite.
 *
 * Atomicity is the SQL store's: each write below runs as one unit inside a `BEGIN IMMEDIATE`
 * transaction (its own savepoint), with no `await` between its reads and its writes.
 *
 * @module
 */

import * as rotation from '../refresh-rotation.js'
import type { RefreshRotation, Store, StoreOptions } from '../types.js'
import { conflict } from './keyed-queries.js'
import { nodeRotationCrypto } from './node-crypto.js'
import {
  fromRefreshToken,
  isLive,
  ms,
  pendingCode,
  presentedRow,
  toClient,
  toCode,
  toGrant,
  toRefreshToken,
} from './rows.js'
import type { ClientsTable, CodesTable, GrantsTable, RefreshTokensTable } from './schema.js'
import type { SqliteConnectionGate } from './sqlite-driver.js'

const SQL = {
  selectClient: 'select * from portcullis_clients where client_id = ?',
  upsertClient: `insert into portcullis_clients
    (client_id, kind, secret_hash, metadata, created_at, expires_at, last_used_at)
    values (?, ?, ?, ?, ?, ?, ?)
    on conflict (client_id) do update set kind = excluded.kind, secret_hash = excluded.secret_hash,
      metadata = excluded.metadata, created_at = excluded.created_at,
      expires_at = excluded.expires_at, last_used_at = excluded.last_used_at`,
  // One statement: of N concurrent callers, exactly one sees `consumed_at IS NULL`.
  consumeCode: `update portcullis_codes set consumed_at = ?
    where hash = ? and consumed_at is null and expires_at > ? returning *`,
  selectCode: 'select * from portcullis_codes where hash = ?',
  insertRefreshToken: `insert into portcullis_refresh_tokens
    (hash, grant_id, client_id, subject, resource, scopes, created_at, expires_at, rotated_at,
     revoked_at, successor_hash, successor_ciphertext)
    values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, null, null)
    on conflict do nothing returning hash`,
  selectRefreshToken: 'select * from portcullis_refresh_tokens where hash = ?',
  selectGrant: 'select * from portcullis_grants where id = ?',
  markRotated: `update portcullis_refresh_tokens
    set rotated_at = ?, successor_hash = ?, successor_ciphertext = ? where hash = ?`,
  revokeGrant: 'update portcullis_grants set revoked_at = ? where id = ? and revoked_at is null returning id',
  revokeGrantRefreshTokens:
    'update portcullis_refresh_tokens set revoked_at = ? where grant_id = ? and revoked_at is null',
  // Issuance records of tokens from before access tokens named their grant (see sql-store.ts).
  revokeGrantAccessTokens:
    'update portcullis_access_tokens set revoked_at = ? where grant_id = ? and revoked_at is null',
  // A new window starts when the stored one has ended, else the count goes up (SET expressions
  // all read the row as it was).
  hitRateLimit: `insert into portcullis_rate_limits (key, count, reset_at) values (?, 1, ?)
    on conflict (key) do update set
      count = case when portcullis_rate_limits.reset_at <= ? then 1 else portcullis_rate_limits.count + 1 end,
      reset_at = case when portcullis_rate_limits.reset_at <= ? then ? else portcullis_rate_limits.reset_at end
    returning count, reset_at`,
} as const

// Writes that change at most one row in one statement: no savepoint needed.
const ONE = { singleStatement: true } as const

/**
 * The store with its hot operations replaced by the statements above. `store` is the Kysely store
 * over the same connection.
 */
export function withSqliteStatements(
  store: Store,
  gate: SqliteConnectionGate,
  options: Pick<StoreOptions, 'refreshGraceMs'> & { rotationCrypto?: rotation.RotationCrypto },
): Store {
  const defaultGraceMs = options.refreshGraceMs ?? rotation.DEFAULT_REFRESH_GRACE_MS
  const rotationCrypto = options.rotationCrypto ?? nodeRotationCrypto
  const get = <R>(sql: string, ...params: unknown[]) => gate.prepare(sql).get(...params) as R | undefined
  const run = (sql: string, ...params: unknown[]) => gate.prepare(sql).run(...params)

  function revokeGrantNow(id: string, now: number): boolean {
    if (get(SQL.revokeGrant, now, id) === undefined) return false
    run(SQL.revokeGrantRefreshTokens, now, id)
    run(SQL.revokeGrantAccessTokens, now, id)
    return true
  }

  return {
    ...store,
    clients: {
      ...store.clients,
      async get(clientId, now) {
        const row = await gate.read(() => get<ClientsTable>(SQL.selectClient, clientId))
        return row !== undefined && isLive(row.expires_at, now) ? toClient(row) : undefined
      },
      async put(record) {
        await gate.write(
          () =>
            run(
              SQL.upsertClient,
              record.client_id,
              record.kind,
              record.secret_hash ?? null,
              JSON.stringify(record.metadata),
              record.created_at,
              record.expires_at ?? null,
              record.last_used_at ?? null,
            ),
          ONE,
        )
      },
    },

    codes: {
      ...store.codes,
      consume(hash, now) {
        return gate.write(() => {
          const won = get<CodesTable>(SQL.consumeCode, now, hash, now)
          if (won !== undefined) return { status: 'ok', record: toCode(won) } as const
          const row = get<CodesTable>(SQL.selectCode, hash)
          if (row === undefined) return { status: 'not_found' } as const
          if (row.consumed_at !== null) return { status: 'replayed', record: toCode(row) } as const
          return { status: 'expired' } as const
        }, ONE)
      },
      async peek(hash, now) {
        return pendingCode(await gate.read(() => get<CodesTable>(SQL.selectCode, hash)), now)
      },
    },

    refreshTokens: {
      ...store.refreshTokens,
      async issue(hash, record) {
        const row = fromRefreshToken(hash, record)
        const inserted = await gate.write(
          () =>
            get(
              SQL.insertRefreshToken,
              row.hash,
              row.grant_id,
              row.client_id,
              row.subject,
              row.resource,
              row.scopes,
              row.created_at,
              row.expires_at,
              row.rotated_at,
              row.revoked_at,
            ),
          ONE,
        )
        if (inserted === undefined) throw conflict('refresh token')
      },
      async get(hash, now) {
        const row = await gate.read(() => get<RefreshTokensTable>(SQL.selectRefreshToken, hash))
        return row !== undefined && ms(row.expires_at) > now ? toRefreshToken(row) : undefined
      },
      async rotate(input): Promise<RefreshRotation> {
        const sealed = await rotation.sealSuccessor(input, rotationCrypto)
        const graceMs = input.graceMs ?? defaultGraceMs
        const plan = await gate.write(() => {
          const row = get<RefreshTokensTable>(SQL.selectRefreshToken, input.presentedHash)
          if (row === undefined) return { status: 'invalid' } as const
          const grantRow = get<GrantsTable>(SQL.selectGrant, row.grant_id)
          const next =
            row.successor_hash === null
              ? undefined
              : get<RefreshTokensTable>(SQL.selectRefreshToken, row.successor_hash)
          const plan = rotation.planRotation(
            presentedRow(row),
            grantRow === undefined ? undefined : toGrant(grantRow),
            next === undefined ? undefined : toRefreshToken(next),
            input,
            graceMs,
          )
          if (plan.status === 'reuse_detected') revokeGrantNow(plan.grant_id, input.now)
          if (plan.status === 'rotated') {
            run(SQL.markRotated, input.now, plan.hash, sealed, input.presentedHash)
            const successor = fromRefreshToken(plan.hash, plan.record)
            const inserted = get(
              SQL.insertRefreshToken,
              successor.hash,
              successor.grant_id,
              successor.client_id,
              successor.subject,
              successor.resource,
              successor.scopes,
              successor.created_at,
              successor.expires_at,
              successor.rotated_at,
              successor.revoked_at,
            )
            // Thrown inside the write: its savepoint undoes the update above.
            if (inserted === undefined) throw conflict('refresh token')
          }
          return plan
        })
        return rotation.settleRotation(plan, input, rotationCrypto)
      },
    },

    rateLimits: {
      async hit(key, windowMs, now) {
        const row = await gate.write(
          () =>
            get<{ count: number; reset_at: number }>(
              SQL.hitRateLimit,
              key,
              now + windowMs,
              now,
              now,
              now + windowMs,
            )!,
          ONE,
        )
        return { count: Number(row.count), resetAt: ms(row.reset_at) }
      },
    },
  }
}
