/**
 * The Store over SQL: one set of queries for SQLite and Postgres, parameterized by the Kysely
 * instance.
 *
 * Atomicity: racing operations are either one statement (`UPDATE … WHERE consumed_at IS NULL
 * RETURNING`, `INSERT … ON CONFLICT … RETURNING`, `DELETE … RETURNING`) or one transaction that
 * locks what it decides on: `SELECT … FOR UPDATE` on Postgres; on SQLite every transaction is
 * `BEGIN IMMEDIATE`, which holds the database's single write lock from the start.
 *
 * @module
 */

import type { DeleteResult, Kysely, SelectQueryBuilder } from 'kysely'
import type { Keyring } from '../crypto.js'
import {
  DEFAULT_REFRESH_GRACE_MS,
  planRotation,
  type RotationCrypto,
  sealSuccessor,
  settleRotation,
} from '../refresh-rotation.js'
import { openPrivateJwk, openUpstreamTokens, sealPrivateJwk, sealUpstreamTokens } from '../sealed-values.js'
import type { ConsentKey, JsonObject, SigningKeyStatus, Store, StoreOptions } from '../types.js'
import { deleteByKey, insertNew, selectByKey, upsert } from './keyed-queries.js'
import { nodeRotationCrypto } from './node-crypto.js'
import {
  fromAccessToken,
  fromCode,
  fromRefreshToken,
  isLive,
  ms,
  optMs,
  pendingCode,
  presentedRow,
  toAccessToken,
  toClient,
  toCode,
  toGrant,
  toRefreshToken,
} from './rows.js'
import type { Database, SqlDialectName } from './schema.js'

const DEFAULT_AUDIT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000

type Db = Kysely<Database>

/** What {@link createSqlStore} needs besides the connection. */
export interface SqlStoreContext {
  db: Db
  dialect: SqlDialectName
  keys: Keyring
  options: Omit<StoreOptions, 'encryptionKey'>
  /** Releases what the store owns (the Kysely instance, a pool it created). */
  close(): Promise<void>
  /** The rotation's hashing and sealing. Default: `node:crypto` (same envelopes as Web Crypto). */
  rotationCrypto?: RotationCrypto
}

function consentWhere(key: ConsentKey) {
  return {
    subject: key.subject,
    client_id: key.client_id,
    resource: key.resource,
    redirect_uri: key.redirect_uri ?? '',
  }
}

// The tables whose rows belong to a grant (column `grant_id`) and end (column `expires_at`).
const GRANT_ROWS = [
  'portcullis_codes',
  'portcullis_access_tokens',
  'portcullis_refresh_tokens',
  'portcullis_upstream_tokens',
] as const

/** Deletes the rows of {@link GRANT_ROWS} that have ended or whose grant is among `ended`. */
async function deleteGrantRows(
  trx: Db,
  ended: SelectQueryBuilder<Database, 'portcullis_grants', { id: string }>,
  now: number,
): Promise<DeleteResult[]> {
  const results: DeleteResult[] = []
  for (const table of GRANT_ROWS) {
    const result = await trx
      .deleteFrom(table)
      .where((eb) => eb.or([eb('expires_at', '<=', now), eb('grant_id', 'in', ended)]))
      .executeTakeFirst()
    results.push(result)
  }
  return results
}

/** Builds a Store over a migrated database. */
export function createSqlStore(ctx: SqlStoreContext): Store {
  const { db, keys } = ctx
  const rotationCrypto = ctx.rotationCrypto ?? nodeRotationCrypto
  const postgres = ctx.dialect === 'postgres'
  const defaultGraceMs = ctx.options.refreshGraceMs ?? DEFAULT_REFRESH_GRACE_MS
  const auditRetentionMs = ctx.options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS

  async function revokeGrantIn(trx: Db, id: string, now: number): Promise<boolean> {
    const revoked = await trx
      .updateTable('portcullis_grants')
      .set({ revoked_at: now })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .returning('id')
      .executeTakeFirst()
    if (revoked === undefined) return false
    // Access-token rows are revocation records, or issuance records of tokens from before access
    // tokens named their grant: those are marked here, the others are judged by their grant.
    for (const table of ['portcullis_refresh_tokens', 'portcullis_access_tokens'] as const) {
      await trx
        .updateTable(table)
        .set({ revoked_at: now })
        .where('grant_id', '=', id)
        .where('revoked_at', 'is', null)
        .execute()
    }
    return true
  }

  return {
    clients: {
      async get(clientId, now) {
        const row = await selectByKey(db, 'portcullis_clients', 'client_id', clientId)
        return row !== undefined && isLive(row.expires_at, now) ? toClient(row) : undefined
      },
      async put(record) {
        const row = {
          kind: record.kind,
          secret_hash: record.secret_hash ?? null,
          metadata: JSON.stringify(record.metadata),
          created_at: record.created_at,
          expires_at: record.expires_at ?? null,
          last_used_at: record.last_used_at ?? null,
        }
        await upsert(db, 'portcullis_clients', { client_id: record.client_id }, row)
      },
      delete(clientId) {
        return deleteByKey(db, 'portcullis_clients', 'client_id', clientId)
      },
      async touch(clientId, now, expiresAt) {
        const r = await db
          .updateTable('portcullis_clients')
          .set(expiresAt === undefined ? { last_used_at: now } : { last_used_at: now, expires_at: expiresAt })
          .where('client_id', '=', clientId)
          .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
          .executeTakeFirst()
        return r.numUpdatedRows > 0n
      },
    },

    transactions: {
      async create(id, data, expiresAt) {
        const row = { id, data: JSON.stringify(data), expires_at: expiresAt }
        await insertNew(db, 'portcullis_transactions', row, 'id', 'transaction')
      },
      async get(id, now) {
        const row = await selectByKey(db, 'portcullis_transactions', 'id', id)
        return row !== undefined && ms(row.expires_at) > now
          ? (JSON.parse(row.data) as JsonObject)
          : undefined
      },
      async update(id, patch, now) {
        return db.transaction().execute(async (trx) => {
          const row = await trx
            .selectFrom('portcullis_transactions')
            .select(['data', 'expires_at'])
            .where('id', '=', id)
            .$if(postgres, (q) => q.forUpdate())
            .executeTakeFirst()
          if (row === undefined || ms(row.expires_at) <= now) return false
          const data = { ...(JSON.parse(row.data) as JsonObject), ...patch }
          await trx
            .updateTable('portcullis_transactions')
            .set({ data: JSON.stringify(data) })
            .where('id', '=', id)
            .execute()
          return true
        })
      },
      async consume(id, now) {
        const row = await db
          .deleteFrom('portcullis_transactions')
          .where('id', '=', id)
          .returning(['data', 'expires_at'])
          .executeTakeFirst()
        return row !== undefined && ms(row.expires_at) > now
          ? (JSON.parse(row.data) as JsonObject)
          : undefined
      },
    },

    consents: {
      async get(key, now) {
        const row = await db
          .selectFrom('portcullis_consents')
          .select(['scopes', 'created_at', 'expires_at'])
          .where((eb) => eb.and(consentWhere(key)))
          .executeTakeFirst()
        if (row === undefined || !isLive(row.expires_at, now)) return undefined
        return {
          scopes: JSON.parse(row.scopes) as string[],
          created_at: ms(row.created_at),
          ...optMs('expires_at', row.expires_at),
        }
      },
      async put(key, record) {
        const row = {
          scopes: JSON.stringify(record.scopes),
          created_at: record.created_at,
          expires_at: record.expires_at ?? null,
        }
        await upsert(db, 'portcullis_consents', consentWhere(key), row)
      },
      async delete(key) {
        const r = await db
          .deleteFrom('portcullis_consents')
          .where((eb) => eb.and(consentWhere(key)))
          .executeTakeFirst()
        return r.numDeletedRows > 0n
      },
    },

    codes: {
      async put(hash, record) {
        const row = { hash, ...fromCode(record), consumed_at: null }
        await insertNew(db, 'portcullis_codes', row, 'hash', 'authorization code')
      },
      async consume(hash, now) {
        // One statement: of N concurrent callers, exactly one sees `consumed_at IS NULL`.
        const won = await db
          .updateTable('portcullis_codes')
          .set({ consumed_at: now })
          .where('hash', '=', hash)
          .where('consumed_at', 'is', null)
          .where('expires_at', '>', now)
          .returningAll()
          .executeTakeFirst()
        if (won !== undefined) return { status: 'ok', record: toCode(won) }
        const row = await selectByKey(db, 'portcullis_codes', 'hash', hash)
        if (row === undefined) return { status: 'not_found' }
        if (row.consumed_at !== null) return { status: 'replayed', record: toCode(row) }
        return { status: 'expired' }
      },
      async peek(hash, now) {
        const row = await selectByKey(db, 'portcullis_codes', 'hash', hash)
        return pendingCode(row, now)
      },
    },

    grants: {
      async create(record) {
        const row = {
          id: record.id,
          subject: record.subject,
          client_id: record.client_id,
          resource: record.resource,
          scopes: JSON.stringify(record.scopes),
          created_at: record.created_at,
          expires_at: record.expires_at ?? null,
          revoked_at: record.revoked_at ?? null,
          upstream: record.upstream === undefined ? null : JSON.stringify(record.upstream),
        }
        await insertNew(db, 'portcullis_grants', row, 'id', 'grant')
      },
      async get(id, now) {
        const row = await selectByKey(db, 'portcullis_grants', 'id', id)
        return row !== undefined && isLive(row.expires_at, now) ? toGrant(row) : undefined
      },
      async revoke(id, now) {
        return db.transaction().execute((trx) => revokeGrantIn(trx, id, now))
      },
      async list(filter) {
        let query = db.selectFrom('portcullis_grants').selectAll().orderBy('created_at').orderBy('id')
        if (filter.subject !== undefined) query = query.where('subject', '=', filter.subject)
        if (filter.client_id !== undefined) query = query.where('client_id', '=', filter.client_id)
        return (await query.execute()).map(toGrant)
      },
    },

    accessTokens: {
      async revoke(record, now) {
        if (record.expires_at <= now) return false
        const row = await db
          .insertInto('portcullis_access_tokens')
          .values(fromAccessToken(record, now))
          // A row without `revoked_at` is an issuance record from an earlier schema version.
          .onConflict((oc) =>
            oc
              .column('jti')
              .doUpdateSet({ revoked_at: now })
              .where('portcullis_access_tokens.revoked_at', 'is', null),
          )
          .returning('jti')
          .executeTakeFirst()
        return row !== undefined
      },
      async get(jti, now) {
        const row = await selectByKey(db, 'portcullis_access_tokens', 'jti', jti)
        return row !== undefined && ms(row.expires_at) > now ? toAccessToken(row) : undefined
      },
    },

    refreshTokens: {
      async issue(hash, record) {
        const row = { ...fromRefreshToken(hash, record), successor_hash: null, successor_ciphertext: null }
        await insertNew(db, 'portcullis_refresh_tokens', row, 'hash', 'refresh token')
      },
      async get(hash, now) {
        const row = await selectByKey(db, 'portcullis_refresh_tokens', 'hash', hash)
        return row !== undefined && ms(row.expires_at) > now ? toRefreshToken(row) : undefined
      },
      async rotate(input) {
        const sealed = await sealSuccessor(input, rotationCrypto)
        const graceMs = input.graceMs ?? defaultGraceMs
        const plan = await db.transaction().execute(async (trx) => {
          const selectToken = (hash: string) => selectByKey(trx, 'portcullis_refresh_tokens', 'hash', hash)
          const first = await selectToken(input.presentedHash)
          if (first === undefined) return { status: 'invalid' } as const
          // Lock the family: rotations and revocations of one grant run one at a time.
          const grantRow = await trx
            .selectFrom('portcullis_grants')
            .selectAll()
            .where('id', '=', first.grant_id)
            .$if(postgres, (q) => q.forUpdate())
            .executeTakeFirst()
          const row = postgres ? await selectToken(input.presentedHash) : first
          const next = row?.successor_hash == null ? undefined : await selectToken(row.successor_hash)
          const plan = planRotation(
            row === undefined ? undefined : presentedRow(row),
            grantRow === undefined ? undefined : toGrant(grantRow),
            next === undefined ? undefined : toRefreshToken(next),
            input,
            graceMs,
          )
          if (plan.status === 'reuse_detected') await revokeGrantIn(trx, plan.grant_id, input.now)
          if (plan.status === 'rotated') {
            await trx
              .updateTable('portcullis_refresh_tokens')
              .set({ rotated_at: input.now, successor_hash: plan.hash, successor_ciphertext: sealed })
              .where('hash', '=', input.presentedHash)
              .execute()
            const successor = {
              ...fromRefreshToken(plan.hash, plan.record),
              successor_hash: null,
              successor_ciphertext: null,
            }
            await insertNew(trx, 'portcullis_refresh_tokens', successor, 'hash', 'refresh token')
          }
          return plan
        })
        return settleRotation(plan, input, rotationCrypto)
      },
    },

    signingKeys: {
      async list() {
        const rows = await db
          .selectFrom('portcullis_signing_keys')
          .selectAll()
          .orderBy('activates_at')
          .orderBy('kid')
          .execute()
        return Promise.all(
          rows.map(async (row) => ({
            kid: row.kid,
            alg: row.alg,
            public_jwk: JSON.parse(row.public_jwk) as JsonWebKey,
            private_jwk: await openPrivateJwk(keys, row.kid, row.private_jwk_ciphertext),
            created_at: ms(row.created_at),
            activates_at: ms(row.activates_at),
            ...optMs('retires_at', row.retires_at),
            status: row.status as SigningKeyStatus,
          })),
        )
      },
      async put(record) {
        const row = {
          alg: record.alg,
          public_jwk: JSON.stringify(record.public_jwk),
          private_jwk_ciphertext: await sealPrivateJwk(keys, record.kid, record.private_jwk),
          created_at: record.created_at,
          activates_at: record.activates_at,
          retires_at: record.retires_at ?? null,
          status: record.status,
        }
        await upsert(db, 'portcullis_signing_keys', { kid: record.kid }, row)
      },
      async update(kid, patch) {
        const set = {
          ...(patch.status === undefined ? {} : { status: patch.status }),
          ...(patch.activates_at === undefined ? {} : { activates_at: patch.activates_at }),
          ...(patch.retires_at === undefined ? {} : { retires_at: patch.retires_at }),
        }
        const r = await db
          .updateTable('portcullis_signing_keys')
          .set(Object.keys(set).length > 0 ? set : { kid })
          .where('kid', '=', kid)
          .executeTakeFirst()
        return r.numUpdatedRows > 0n
      },
      delete(kid) {
        return deleteByKey(db, 'portcullis_signing_keys', 'kid', kid)
      },
    },

    rateLimits: {
      async hit(key, windowMs, now) {
        // One upsert: a new window starts when the stored one has ended, else the count goes up.
        const row = await db
          .insertInto('portcullis_rate_limits')
          .values({ key, count: 1, reset_at: now + windowMs })
          .onConflict((oc) =>
            oc.column('key').doUpdateSet((eb) => ({
              count: eb
                .case()
                .when('portcullis_rate_limits.reset_at', '<=', now)
                .then(1)
                .else(eb('portcullis_rate_limits.count', '+', 1))
                .end(),
              reset_at: eb
                .case()
                .when('portcullis_rate_limits.reset_at', '<=', now)
                .then(now + windowMs)
                .else(eb.ref('portcullis_rate_limits.reset_at'))
                .end(),
            })),
          )
          .returning(['count', 'reset_at'])
          .executeTakeFirstOrThrow()
        return { count: Number(row.count), resetAt: ms(row.reset_at) }
      },
    },

    audit: {
      async append(event) {
        await db
          .insertInto('portcullis_audit')
          .values({
            type: event.type,
            at: event.at,
            subject: event.subject ?? null,
            client_id: event.client_id ?? null,
            grant_id: event.grant_id ?? null,
            detail: event.detail === undefined ? null : JSON.stringify(event.detail),
          })
          .execute()
      },
      async list(filter) {
        let query = db.selectFrom('portcullis_audit').selectAll().orderBy('at').orderBy('seq')
        if (filter.since !== undefined) query = query.where('at', '>=', filter.since)
        if (filter.type !== undefined) query = query.where('type', '=', filter.type)
        const rows = await query.limit(filter.limit ?? 100).execute()
        return rows.map((row) => ({
          seq: Number(row.seq),
          type: row.type,
          at: ms(row.at),
          ...(row.subject === null ? {} : { subject: row.subject }),
          ...(row.client_id === null ? {} : { client_id: row.client_id }),
          ...(row.grant_id === null ? {} : { grant_id: row.grant_id }),
          ...(row.detail === null ? {} : { detail: JSON.parse(row.detail) as JsonObject }),
        }))
      },
    },

    upstreamTokens: {
      async put(grantId, tokens, expiresAt) {
        const row = {
          ciphertext: await sealUpstreamTokens(keys, grantId, tokens),
          expires_at: expiresAt ?? null,
        }
        await upsert(db, 'portcullis_upstream_tokens', { grant_id: grantId }, row)
      },
      async get(grantId, now) {
        const row = await selectByKey(db, 'portcullis_upstream_tokens', 'grant_id', grantId)
        if (row === undefined || !isLive(row.expires_at, now)) return undefined
        return openUpstreamTokens(keys, grantId, row.ciphertext)
      },
      delete(grantId) {
        return deleteByKey(db, 'portcullis_upstream_tokens', 'grant_id', grantId)
      },
    },

    jtis: {
      async markUsed(issuer, jti, expiresAt, now) {
        // Inserted, or taken over from an expired row: either way this caller is first.
        const row = await db
          .insertInto('portcullis_used_jtis')
          .values({ issuer, jti, expires_at: expiresAt })
          .onConflict((oc) =>
            oc
              .columns(['issuer', 'jti'])
              .doUpdateSet({ expires_at: (eb) => eb.ref('excluded.expires_at') })
              .where('portcullis_used_jtis.expires_at', '<=', now),
          )
          .returning('jti')
          .executeTakeFirst()
        return row !== undefined
      },
    },

    async sweep(now) {
      const ended = db.selectFrom('portcullis_grants').select('id').where('expires_at', '<=', now)
      const counts = await db.transaction().execute(async (trx) => [
        // Before the grants: `ended` must still find them.
        ...(await deleteGrantRows(trx, ended, now)),
        await trx.deleteFrom('portcullis_grants').where('expires_at', '<=', now).executeTakeFirst(),
        await trx.deleteFrom('portcullis_clients').where('expires_at', '<=', now).executeTakeFirst(),
        await trx.deleteFrom('portcullis_transactions').where('expires_at', '<=', now).executeTakeFirst(),
        await trx.deleteFrom('portcullis_consents').where('expires_at', '<=', now).executeTakeFirst(),
        await trx.deleteFrom('portcullis_signing_keys').where('retires_at', '<=', now).executeTakeFirst(),
        await trx.deleteFrom('portcullis_rate_limits').where('reset_at', '<=', now).executeTakeFirst(),
        await trx.deleteFrom('portcullis_used_jtis').where('expires_at', '<=', now).executeTakeFirst(),
        await trx
          .deleteFrom('portcullis_audit')
          .where('at', '<', now - auditRetentionMs)
          .executeTakeFirst(),
      ])
      return counts.reduce((sum, r) => sum + Number(r.numDeletedRows), 0)
    },

    close: ctx.close,
  }
}
