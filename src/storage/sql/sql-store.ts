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

import type { Kysely } from 'kysely'
import type { Keyring } from '../crypto.js'
import { StorageError } from '../errors.js'
import {
  DEFAULT_REFRESH_GRACE_MS,
  decideRotation,
  openSuccessor,
  type RotationCrypto,
  refusal,
  sealSuccessor,
  successorRecord,
} from '../refresh-rotation.js'
import { openPrivateJwk, openUpstreamTokens, sealPrivateJwk, sealUpstreamTokens } from '../sealed-values.js'
import type { ConsentKey, JsonObject, SigningKeyStatus, Store, StoreOptions } from '../types.js'
import { nodeRotationCrypto } from './node-crypto.js'
import {
  fromCode,
  fromRefreshToken,
  isLive,
  ms,
  optMs,
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

function conflict(kind: string): StorageError {
  return new StorageError('ERR_STORAGE_CONFLICT', `${kind} exists already`)
}

function consentWhere(key: ConsentKey) {
  return {
    subject: key.subject,
    client_id: key.client_id,
    resource: key.resource,
    redirect_uri: key.redirect_uri ?? '',
  }
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
    await trx
      .updateTable('portcullis_refresh_tokens')
      .set({ revoked_at: now })
      .where('grant_id', '=', id)
      .where('revoked_at', 'is', null)
      .execute()
    await trx
      .updateTable('portcullis_access_tokens')
      .set({ revoked_at: now })
      .where('grant_id', '=', id)
      .where('revoked_at', 'is', null)
      .execute()
    return true
  }

  return {
    clients: {
      async get(clientId, now) {
        const row = await db
          .selectFrom('portcullis_clients')
          .selectAll()
          .where('client_id', '=', clientId)
          .executeTakeFirst()
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
        await db
          .insertInto('portcullis_clients')
          .values({ client_id: record.client_id, ...row })
          .onConflict((oc) => oc.column('client_id').doUpdateSet(row))
          .execute()
      },
      async delete(clientId) {
        const r = await db
          .deleteFrom('portcullis_clients')
          .where('client_id', '=', clientId)
          .executeTakeFirst()
        return r.numDeletedRows > 0n
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
        const row = await db
          .insertInto('portcullis_transactions')
          .values({ id, data: JSON.stringify(data), expires_at: expiresAt })
          .onConflict((oc) => oc.doNothing())
          .returning('id')
          .executeTakeFirst()
        if (row === undefined) throw conflict('transaction')
      },
      async get(id, now) {
        const row = await db
          .selectFrom('portcullis_transactions')
          .select(['data', 'expires_at'])
          .where('id', '=', id)
          .executeTakeFirst()
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
        await db
          .insertInto('portcullis_consents')
          .values({ ...consentWhere(key), ...row })
          .onConflict((oc) =>
            oc.columns(['subject', 'client_id', 'resource', 'redirect_uri']).doUpdateSet(row),
          )
          .execute()
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
        const row = await db
          .insertInto('portcullis_codes')
          .values({ hash, ...fromCode(record), consumed_at: null })
          .onConflict((oc) => oc.doNothing())
          .returning('hash')
          .executeTakeFirst()
        if (row === undefined) throw conflict('authorization code')
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
        const row = await db
          .selectFrom('portcullis_codes')
          .selectAll()
          .where('hash', '=', hash)
          .executeTakeFirst()
        if (row === undefined) return { status: 'not_found' }
        if (row.consumed_at !== null) return { status: 'replayed', record: toCode(row) }
        return { status: 'expired' }
      },
    },

    grants: {
      async create(record) {
        const row = await db
          .insertInto('portcullis_grants')
          .values({
            id: record.id,
            subject: record.subject,
            client_id: record.client_id,
            resource: record.resource,
            scopes: JSON.stringify(record.scopes),
            created_at: record.created_at,
            expires_at: record.expires_at ?? null,
            revoked_at: record.revoked_at ?? null,
            upstream: record.upstream === undefined ? null : JSON.stringify(record.upstream),
          })
          .onConflict((oc) => oc.doNothing())
          .returning('id')
          .executeTakeFirst()
        if (row === undefined) throw conflict('grant')
      },
      async get(id, now) {
        const row = await db
          .selectFrom('portcullis_grants')
          .selectAll()
          .where('id', '=', id)
          .executeTakeFirst()
        return row !== undefined && isLive(row.expires_at, now) ? toGrant(row) : undefined
      },
      async revoke(id, now) {
        return db.transaction().execute((trx) => revokeGrantIn(trx, id, now))
      },
      async list(filter) {
        const rows = await db
          .selectFrom('portcullis_grants')
          .selectAll()
          .$if(filter.subject !== undefined, (q) => q.where('subject', '=', filter.subject!))
          .$if(filter.client_id !== undefined, (q) => q.where('client_id', '=', filter.client_id!))
          .orderBy('created_at')
          .orderBy('id')
          .execute()
        return rows.map(toGrant)
      },
    },

    accessTokens: {
      async put(record) {
        const row = {
          grant_id: record.grant_id,
          client_id: record.client_id,
          subject: record.subject,
          resource: record.resource,
          scopes: JSON.stringify(record.scopes),
          expires_at: record.expires_at,
          revoked_at: record.revoked_at ?? null,
        }
        await db
          .insertInto('portcullis_access_tokens')
          .values({ jti: record.jti, ...row })
          .onConflict((oc) => oc.column('jti').doUpdateSet(row))
          .execute()
      },
      async get(jti, now) {
        const row = await db
          .selectFrom('portcullis_access_tokens')
          .selectAll()
          .where('jti', '=', jti)
          .executeTakeFirst()
        return row !== undefined && ms(row.expires_at) > now ? toAccessToken(row) : undefined
      },
      async revoke(jti, now) {
        const r = await db
          .updateTable('portcullis_access_tokens')
          .set({ revoked_at: now })
          .where('jti', '=', jti)
          .where('revoked_at', 'is', null)
          .where('expires_at', '>', now)
          .executeTakeFirst()
        return r.numUpdatedRows > 0n
      },
    },

    refreshTokens: {
      async issue(hash, record) {
        const row = await db
          .insertInto('portcullis_refresh_tokens')
          .values({ ...fromRefreshToken(hash, record), successor_hash: null, successor_ciphertext: null })
          .onConflict((oc) => oc.doNothing())
          .returning('hash')
          .executeTakeFirst()
        if (row === undefined) throw conflict('refresh token')
      },
      async get(hash, now) {
        const row = await db
          .selectFrom('portcullis_refresh_tokens')
          .selectAll()
          .where('hash', '=', hash)
          .executeTakeFirst()
        return row !== undefined && ms(row.expires_at) > now ? toRefreshToken(row) : undefined
      },
      async rotate(input) {
        const sealed = await sealSuccessor(input, rotationCrypto)
        const graceMs = input.graceMs ?? defaultGraceMs
        const outcome = await db.transaction().execute(async (trx) => {
          const selectToken = (hash: string) =>
            trx
              .selectFrom('portcullis_refresh_tokens')
              .selectAll()
              .where('hash', '=', hash)
              .executeTakeFirst()
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
          const presented = row === undefined ? undefined : toRefreshToken(row)
          const decision = decideRotation(
            presented,
            grantRow === undefined ? undefined : toGrant(grantRow),
            next === undefined ? undefined : toRefreshToken(next),
            input,
            graceMs,
          )
          if (decision === 'invalid' || presented === undefined || row === undefined) {
            return { status: 'invalid' } as const
          }
          const refused = refusal(decision)
          if (refused !== undefined) return refused
          if (decision === 'reuse') {
            await revokeGrantIn(trx, presented.grant_id, input.now)
            return { status: 'reuse_detected', grant_id: presented.grant_id } as const
          }
          if (decision === 'grace') {
            return {
              status: 'grace',
              hash: row.successor_hash!,
              sealed: row.successor_ciphertext!,
              record: toRefreshToken(next!),
            } as const
          }
          const record = successorRecord(presented, input)
          await trx
            .updateTable('portcullis_refresh_tokens')
            .set({
              rotated_at: input.now,
              successor_hash: input.successor.hash,
              successor_ciphertext: sealed,
            })
            .where('hash', '=', input.presentedHash)
            .execute()
          const inserted = await trx
            .insertInto('portcullis_refresh_tokens')
            .values({
              ...fromRefreshToken(input.successor.hash, record),
              successor_hash: null,
              successor_ciphertext: null,
            })
            .onConflict((oc) => oc.doNothing())
            .returning('hash')
            .executeTakeFirst()
          if (inserted === undefined) throw conflict('refresh token')
          return { status: 'rotated', hash: input.successor.hash, record } as const
        })
        switch (outcome.status) {
          case 'rotated':
            return { ...outcome, token: input.successor.token }
          case 'grace': {
            const { sealed: successorCiphertext, ...rest } = outcome
            return { ...rest, token: await openSuccessor(input, successorCiphertext, rotationCrypto) }
          }
          default:
            return outcome
        }
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
        await db
          .insertInto('portcullis_signing_keys')
          .values({ kid: record.kid, ...row })
          .onConflict((oc) => oc.column('kid').doUpdateSet(row))
          .execute()
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
      async delete(kid) {
        const r = await db.deleteFrom('portcullis_signing_keys').where('kid', '=', kid).executeTakeFirst()
        return r.numDeletedRows > 0n
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
        const rows = await db
          .selectFrom('portcullis_audit')
          .selectAll()
          .$if(filter.since !== undefined, (q) => q.where('at', '>=', filter.since!))
          .$if(filter.type !== undefined, (q) => q.where('type', '=', filter.type!))
          .orderBy('at')
          .orderBy('seq')
          .limit(filter.limit ?? 100)
          .execute()
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
        await db
          .insertInto('portcullis_upstream_tokens')
          .values({ grant_id: grantId, ...row })
          .onConflict((oc) => oc.column('grant_id').doUpdateSet(row))
          .execute()
      },
      async get(grantId, now) {
        const row = await db
          .selectFrom('portcullis_upstream_tokens')
          .select(['ciphertext', 'expires_at'])
          .where('grant_id', '=', grantId)
          .executeTakeFirst()
        if (row === undefined || !isLive(row.expires_at, now)) return undefined
        return openUpstreamTokens(keys, grantId, row.ciphertext)
      },
      async delete(grantId) {
        const r = await db
          .deleteFrom('portcullis_upstream_tokens')
          .where('grant_id', '=', grantId)
          .executeTakeFirst()
        return r.numDeletedRows > 0n
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
        await trx
          .deleteFrom('portcullis_codes')
          .where((eb) => eb.or([eb('expires_at', '<=', now), eb('grant_id', 'in', ended)]))
          .executeTakeFirst(),
        await trx
          .deleteFrom('portcullis_access_tokens')
          .where((eb) => eb.or([eb('expires_at', '<=', now), eb('grant_id', 'in', ended)]))
          .executeTakeFirst(),
        await trx
          .deleteFrom('portcullis_refresh_tokens')
          .where((eb) => eb.or([eb('expires_at', '<=', now), eb('grant_id', 'in', ended)]))
          .executeTakeFirst(),
        await trx
          .deleteFrom('portcullis_upstream_tokens')
          .where((eb) => eb.or([eb('expires_at', '<=', now), eb('grant_id', 'in', ended)]))
          .executeTakeFirst(),
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
