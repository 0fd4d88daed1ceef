/**
 * The in-memory Store: for tests and throwaway development runs. Nothing survives the process.
 *
 * Atomicity: every operation reads and writes its maps synchronously, with no `await` between the
 * read and the write, so no other operation can interleave (JavaScript runs one microtask at a
 * time). Crypto that needs `await` happens before or after that synchronous step.
 *
 * @module
 */

import { randomToken } from '../protocol/random.js'
import { importKeyring } from './crypto.js'
import { StorageError } from './errors.js'
import { DEFAULT_REFRESH_GRACE_MS, planRotation, sealSuccessor, settleRotation } from './refresh-rotation.js'
import { openPrivateJwk, openUpstreamTokens, sealPrivateJwk, sealUpstreamTokens } from './sealed-values.js'
import type {
  AccessTokenRecord,
  AuditRecord,
  AuthorizationCodeRecord,
  ClientRecord,
  ConsentKey,
  ConsentRecord,
  GrantRecord,
  JsonObject,
  RateLimitHit,
  RefreshTokenRecord,
  SigningKeyRecord,
  Store,
  StoreOptions,
} from './types.js'

const DEFAULT_AUDIT_RETENTION_MS = 90 * 24 * 60 * 60 * 1000

interface RefreshRow {
  record: RefreshTokenRecord
  successor_hash?: string
  successor_ciphertext?: string
}

type SigningKeyRow = Omit<SigningKeyRecord, 'private_jwk'> & { private_jwk_ciphertext: string }

interface MemoryState {
  clients: Map<string, ClientRecord>
  transactions: Map<string, { data: JsonObject; expires_at: number }>
  consents: Map<string, ConsentRecord>
  codes: Map<string, AuthorizationCodeRecord>
  grants: Map<string, GrantRecord>
  accessTokens: Map<string, AccessTokenRecord>
  refreshTokens: Map<string, RefreshRow>
  signingKeys: Map<string, SigningKeyRow>
  rateLimits: Map<string, RateLimitHit>
  audit: AuditRecord[]
  upstreamTokens: Map<string, { ciphertext: string; expires_at?: number }>
  jtis: Map<string, number>
}

const states = new WeakMap<Store, MemoryState>()

/**
 * Everything the memory store holds, serialized, exactly as it is held. Lets tests prove that no
 * plain secret is kept.
 */
export function memoryStoreSnapshot(store: Store): string {
  const state = states.get(store)
  if (state === undefined) throw new StorageError('ERR_STORAGE_INVALID_ARGUMENT', 'not a memory store')
  return JSON.stringify(
    Object.fromEntries(Object.entries(state).map(([k, v]) => [k, v instanceof Map ? [...v] : v])),
  )
}

function consentId(key: ConsentKey): string {
  return JSON.stringify([key.subject, key.client_id, key.resource, key.redirect_uri ?? ''])
}

function live(expiresAt: number | undefined, now: number): boolean {
  return expiresAt === undefined || expiresAt > now
}

function conflict(kind: string): StorageError {
  return new StorageError('ERR_STORAGE_CONFLICT', `${kind} exists already`)
}

/** Options of {@link createMemoryStore}; without `encryptionKey` a random one is made per store. */
export type MemoryStoreOptions = Partial<StoreOptions>

/**
 * Creates an in-memory Store.
 *
 * @example
 * ```ts
 * const store = await createMemoryStore()
 * ```
 */
export async function createMemoryStore(options: MemoryStoreOptions = {}): Promise<Store> {
  const keys = await importKeyring(options.encryptionKey ?? randomToken(32))
  const defaultGraceMs = options.refreshGraceMs ?? DEFAULT_REFRESH_GRACE_MS
  const auditRetentionMs = options.auditRetentionMs ?? DEFAULT_AUDIT_RETENTION_MS
  const s: MemoryState = {
    clients: new Map(),
    transactions: new Map(),
    consents: new Map(),
    codes: new Map(),
    grants: new Map(),
    accessTokens: new Map(),
    refreshTokens: new Map(),
    signingKeys: new Map(),
    rateLimits: new Map(),
    audit: [],
    upstreamTokens: new Map(),
    jtis: new Map(),
  }
  let auditSeq = 0
  const copy = <T>(value: T): T => structuredClone(value)

  function revokeGrantNow(id: string, now: number): boolean {
    const grant = s.grants.get(id)
    if (grant === undefined || grant.revoked_at !== undefined) return false
    grant.revoked_at = now
    for (const row of s.refreshTokens.values()) {
      if (row.record.grant_id === id && row.record.revoked_at === undefined) row.record.revoked_at = now
    }
    // Access tokens are judged against their grant when introspected; nothing to mark here.
    return true
  }

  const store: Store = {
    clients: {
      async get(clientId, now) {
        const c = s.clients.get(clientId)
        return c !== undefined && live(c.expires_at, now) ? copy(c) : undefined
      },
      async put(record) {
        s.clients.set(record.client_id, copy(record))
      },
      async delete(clientId) {
        return s.clients.delete(clientId)
      },
      async touch(clientId, now, expiresAt) {
        const c = s.clients.get(clientId)
        if (c === undefined || !live(c.expires_at, now)) return false
        c.last_used_at = now
        if (expiresAt !== undefined) c.expires_at = expiresAt
        return true
      },
    },

    transactions: {
      async create(id, data, expiresAt) {
        if (s.transactions.has(id)) throw conflict('transaction')
        s.transactions.set(id, { data: copy(data), expires_at: expiresAt })
      },
      async get(id, now) {
        const t = s.transactions.get(id)
        return t !== undefined && t.expires_at > now ? copy(t.data) : undefined
      },
      async update(id, patch, now) {
        const t = s.transactions.get(id)
        if (t === undefined || t.expires_at <= now) return false
        t.data = { ...t.data, ...copy(patch) }
        return true
      },
      async consume(id, now) {
        const t = s.transactions.get(id)
        if (t === undefined) return undefined
        s.transactions.delete(id)
        return t.expires_at > now ? t.data : undefined
      },
    },

    consents: {
      async get(key, now) {
        const c = s.consents.get(consentId(key))
        return c !== undefined && live(c.expires_at, now) ? copy(c) : undefined
      },
      async put(key, record) {
        s.consents.set(consentId(key), copy(record))
      },
      async delete(key) {
        return s.consents.delete(consentId(key))
      },
    },

    codes: {
      async put(hash, record) {
        if (s.codes.has(hash)) throw conflict('authorization code')
        s.codes.set(hash, copy(record))
      },
      async consume(hash, now) {
        const c = s.codes.get(hash)
        if (c === undefined) return { status: 'not_found' }
        if (c.consumed_at !== undefined) return { status: 'replayed', record: copy(c) }
        if (c.expires_at <= now) return { status: 'expired' }
        c.consumed_at = now
        return { status: 'ok', record: copy(c) }
      },
      async peek(hash, now) {
        const c = s.codes.get(hash)
        return c === undefined || c.consumed_at !== undefined || c.expires_at <= now ? undefined : copy(c)
      },
    },

    grants: {
      async create(record) {
        if (s.grants.has(record.id)) throw conflict('grant')
        s.grants.set(record.id, copy(record))
      },
      async get(id, now) {
        const g = s.grants.get(id)
        return g !== undefined && live(g.expires_at, now) ? copy(g) : undefined
      },
      async revoke(id, now) {
        return revokeGrantNow(id, now)
      },
      async list(filter) {
        return [...s.grants.values()]
          .filter(
            (g) =>
              (filter.subject === undefined || g.subject === filter.subject) &&
              (filter.client_id === undefined || g.client_id === filter.client_id),
          )
          .sort((a, b) => a.created_at - b.created_at || (a.id < b.id ? -1 : 1))
          .map(copy)
      },
    },

    accessTokens: {
      async revoke(record, now) {
        if (record.expires_at <= now || s.accessTokens.has(record.jti)) return false
        s.accessTokens.set(record.jti, { ...copy(record), revoked_at: now })
        return true
      },
      async get(jti, now) {
        const t = s.accessTokens.get(jti)
        return t !== undefined && t.expires_at > now ? copy(t) : undefined
      },
    },

    refreshTokens: {
      async issue(hash, record) {
        if (s.refreshTokens.has(hash)) throw conflict('refresh token')
        s.refreshTokens.set(hash, { record: copy(record) })
      },
      async get(hash, now) {
        const r = s.refreshTokens.get(hash)
        return r !== undefined && r.record.expires_at > now ? copy(r.record) : undefined
      },
      async rotate(input) {
        const sealed = await sealSuccessor(input)
        // From here to the return, no await: the decision and the writes are one atomic step.
        const row = s.refreshTokens.get(input.presentedHash)
        const grant = row === undefined ? undefined : s.grants.get(row.record.grant_id)
        const next = row?.successor_hash === undefined ? undefined : s.refreshTokens.get(row.successor_hash)
        const successor = next === undefined ? undefined : copy(next.record)
        const plan = planRotation(row, grant, successor, input, input.graceMs ?? defaultGraceMs)
        if (plan.status === 'reuse_detected') revokeGrantNow(plan.grant_id, input.now)
        if (plan.status === 'rotated') {
          if (s.refreshTokens.has(plan.hash)) throw conflict('refresh token')
          row!.record.rotated_at = input.now
          row!.successor_hash = plan.hash
          row!.successor_ciphertext = sealed
          s.refreshTokens.set(plan.hash, { record: copy(plan.record) })
        }
        return settleRotation(plan, input)
      },
    },

    signingKeys: {
      async list() {
        const rows = [...s.signingKeys.values()].sort(
          (a, b) => a.activates_at - b.activates_at || (a.kid < b.kid ? -1 : 1),
        )
        return Promise.all(
          rows.map(async ({ private_jwk_ciphertext, ...rest }) => ({
            ...copy(rest),
            private_jwk: await openPrivateJwk(keys, rest.kid, private_jwk_ciphertext),
          })),
        )
      },
      async put(record) {
        const { private_jwk, ...rest } = record
        const sealed = await sealPrivateJwk(keys, record.kid, private_jwk)
        s.signingKeys.set(record.kid, { ...copy(rest), private_jwk_ciphertext: sealed })
      },
      async update(kid, patch) {
        const k = s.signingKeys.get(kid)
        if (k === undefined) return false
        Object.assign(k, patch)
        return true
      },
      async delete(kid) {
        return s.signingKeys.delete(kid)
      },
    },

    rateLimits: {
      async hit(key, windowMs, now) {
        const current = s.rateLimits.get(key)
        const next =
          current === undefined || current.resetAt <= now
            ? { count: 1, resetAt: now + windowMs }
            : { count: current.count + 1, resetAt: current.resetAt }
        s.rateLimits.set(key, next)
        return { ...next }
      },
    },

    audit: {
      async append(event) {
        s.audit.push({ ...copy(event), seq: ++auditSeq })
      },
      async list(filter) {
        const since = filter.since ?? Number.NEGATIVE_INFINITY
        return s.audit
          .filter((e) => e.at >= since && (filter.type === undefined || e.type === filter.type))
          .sort((a, b) => a.at - b.at || a.seq - b.seq)
          .slice(0, filter.limit ?? 100)
          .map(copy)
      },
    },

    upstreamTokens: {
      async put(grantId, tokens, expiresAt) {
        const ciphertext = await sealUpstreamTokens(keys, grantId, tokens)
        s.upstreamTokens.set(
          grantId,
          expiresAt === undefined ? { ciphertext } : { ciphertext, expires_at: expiresAt },
        )
      },
      async get(grantId, now) {
        const row = s.upstreamTokens.get(grantId)
        if (row === undefined || !live(row.expires_at, now)) return undefined
        return openUpstreamTokens(keys, grantId, row.ciphertext)
      },
      async delete(grantId) {
        return s.upstreamTokens.delete(grantId)
      },
    },

    jtis: {
      async markUsed(issuer, jti, expiresAt, now) {
        const id = JSON.stringify([issuer, jti])
        const existing = s.jtis.get(id)
        if (existing !== undefined && existing > now) return false
        s.jtis.set(id, expiresAt)
        return true
      },
    },

    async sweep(now) {
      let deleted = 0
      const drop = <V>(map: Map<string, V>, expired: (v: V, k: string) => boolean): void => {
        for (const [k, v] of map) {
          if (expired(v, k)) {
            map.delete(k)
            deleted++
          }
        }
      }
      const gone = (at: number | undefined): boolean => at !== undefined && at <= now
      // Everything issued under an expired grant goes with it.
      const ended = new Set([...s.grants].filter(([, g]) => gone(g.expires_at)).map(([id]) => id))
      drop(s.grants, (_, id) => ended.has(id))
      drop(s.clients, (c) => gone(c.expires_at))
      drop(s.transactions, (t) => gone(t.expires_at))
      drop(s.consents, (c) => gone(c.expires_at))
      drop(s.codes, (c) => gone(c.expires_at) || ended.has(c.grant_id))
      drop(s.accessTokens, (t) => gone(t.expires_at) || ended.has(t.grant_id))
      drop(s.refreshTokens, (r) => gone(r.record.expires_at) || ended.has(r.record.grant_id))
      drop(s.signingKeys, (k) => gone(k.retires_at))
      drop(s.rateLimits, (r) => gone(r.resetAt))
      drop(s.upstreamTokens, (u, grantId) => gone(u.expires_at) || ended.has(grantId))
      drop(s.jtis, (expiresAt) => gone(expiresAt))
      const kept = s.audit.filter((e) => e.at >= now - auditRetentionMs)
      deleted += s.audit.length - kept.length
      s.audit = kept
      return deleted
    },

    async close() {},
  }
  states.set(store, s)
  return store
}
