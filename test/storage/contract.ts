/**
 * The Store contract: the same tests for every implementation.
 */

import { beforeEach, describe, expect, it } from 'vitest'
import { randomToken, sha256 } from '../../src/protocol/random.js'
import { StorageError } from '../../src/storage/errors.js'
import type {
  AccessTokenRecord,
  AuthorizationCodeRecord,
  GrantRecord,
  RefreshRotation,
  RefreshRotationPreconditions,
  RefreshTokenRecord,
  Store,
} from '../../src/storage/types.js'

/** What a factory gives the contract. */
export interface ContractSubject {
  store: Store
  /** Every stored value of every table (or map), as text, exactly as held at rest. */
  raw(): Promise<string>
  /** The bytes of the files the implementation writes (freed pages and journals included), if any. */
  bytes?: () => Promise<string>
  /** A second store over the same database, for implementations that can share one. */
  openSecond?: () => Promise<Store>
  cleanup(): Promise<void>
}

const T0 = 1_700_000_000_000
const MIN = 60_000

function grant(id: string, extra: Partial<GrantRecord> = {}): GrantRecord {
  return {
    id,
    subject: 'user-1',
    client_id: 'client-1',
    resource: 'https://mcp.example.com/mcp',
    scopes: ['files:read'],
    created_at: T0,
    ...extra,
  }
}

function code(grantId: string, expiresAt = T0 + MIN): Omit<AuthorizationCodeRecord, 'consumed_at'> {
  return {
    grant_id: grantId,
    client_id: 'client-1',
    redirect_uri: 'http://127.0.0.1:33418/callback',
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    resource: 'https://mcp.example.com/mcp',
    scopes: ['files:read'],
    subject: 'user-1',
    expires_at: expiresAt,
  }
}

function refresh(
  grantId: string,
  expiresAt = T0 + 60 * MIN,
): Omit<RefreshTokenRecord, 'rotated_at' | 'revoked_at'> {
  return {
    grant_id: grantId,
    client_id: 'client-1',
    subject: 'user-1',
    resource: 'https://mcp.example.com/mcp',
    scopes: ['files:read'],
    created_at: T0,
    expires_at: expiresAt,
  }
}

function accessToken(grantId: string, jti: string, expiresAt: number): AccessTokenRecord {
  return {
    jti,
    grant_id: grantId,
    client_id: 'client-1',
    subject: 'user-1',
    resource: 'https://mcp.example.com/mcp',
    scopes: ['files:read'],
    expires_at: expiresAt,
  }
}

async function newToken(): Promise<{ token: string; hash: string }> {
  const token = randomToken()
  return { token, hash: await sha256(token) }
}

/** A grant with one refresh token, ready to rotate. */
async function family(store: Store, id = `g-${randomToken(6)}`) {
  await store.grants.create(grant(id))
  const rt = await newToken()
  await store.refreshTokens.issue(rt.hash, refresh(id))
  return { grantId: id, ...rt }
}

async function rotateOnce(
  store: Store,
  presented: { token: string; hash: string },
  now: number,
  graceMs?: number,
) {
  const successor = await newToken()
  return store.refreshTokens.rotate({
    presentedHash: presented.hash,
    presentedToken: presented.token,
    client_id: 'client-1',
    successor: { ...successor, expires_at: now + 60 * MIN },
    now,
    ...(graceMs === undefined ? {} : { graceMs }),
  })
}

function successorOf(r: RefreshRotation): { token: string; hash: string } {
  if (r.status !== 'rotated' && r.status !== 'grace') throw new Error(`expected a successor, got ${r.status}`)
  return { token: r.token, hash: r.hash }
}

/** Registers the contract suite for one implementation. */
export function storeContract(
  name: string,
  factory: () => Promise<ContractSubject>,
  options: { sharedDatabase: boolean },
): void {
  describe(`Store contract: ${name}`, () => {
    let subject: ContractSubject
    let store: Store
    beforeEach(async () => {
      subject = await factory()
      store = subject.store
      return () => subject.cleanup()
    })

    describe('clients', () => {
      it('stores, touches (moving the idle expiry), expires and deletes a registration', async () => {
        await store.clients.put({
          client_id: 'dyn-1',
          kind: 'dynamic',
          secret_hash: await sha256('s3cret'),
          metadata: { redirect_uris: ['http://127.0.0.1/cb'], client_name: 'Demo' },
          created_at: T0,
          expires_at: T0 + MIN,
        })
        expect(await store.clients.get('dyn-1', T0)).toMatchObject({
          kind: 'dynamic',
          metadata: { client_name: 'Demo' },
        })
        expect(await store.clients.touch('dyn-1', T0 + 30_000, T0 + 30_000 + MIN)).toBe(true)
        const touched = await store.clients.get('dyn-1', T0 + MIN + 1)
        expect(touched?.last_used_at).toBe(T0 + 30_000)
        expect(touched?.expires_at).toBe(T0 + 30_000 + MIN)
        expect(await store.clients.get('dyn-1', T0 + 30_000 + MIN)).toBeUndefined()
        expect(await store.clients.touch('dyn-1', T0 + 30_000 + MIN, T0 + 10 * MIN)).toBe(false)
        expect(await store.clients.delete('dyn-1')).toBe(true)
        expect(await store.clients.delete('dyn-1')).toBe(false)
      })

      it('replaces a registration on put and keeps one without expiry forever', async () => {
        const base = { client_id: 'static-1', kind: 'static' as const, metadata: { a: 1 }, created_at: T0 }
        await store.clients.put(base)
        await store.clients.put({ ...base, metadata: { a: 2 } })
        const got = await store.clients.get('static-1', T0 + 1e12)
        expect(got).toEqual({ ...base, metadata: { a: 2 } })
      })
    })

    describe('authorization transactions', () => {
      it('creates, reads, merges updates and refuses a duplicate id', async () => {
        await store.transactions.create('tx-1', { state: 'abc', client_id: 'c' }, T0 + MIN)
        await expect(store.transactions.create('tx-1', {}, T0 + MIN)).rejects.toMatchObject({
          code: 'ERR_STORAGE_CONFLICT',
        })
        expect(await store.transactions.update('tx-1', { subject: 'u' }, T0)).toBe(true)
        expect(await store.transactions.get('tx-1', T0)).toEqual({
          state: 'abc',
          client_id: 'c',
          subject: 'u',
        })
        expect(await store.transactions.get('tx-1', T0 + MIN)).toBeUndefined()
        expect(await store.transactions.update('tx-1', { x: 1 }, T0 + MIN)).toBe(false)
      })

      it('gives a transaction to exactly one of 20 concurrent consumers', async () => {
        await store.transactions.create('tx-2', { n: 1 }, T0 + MIN)
        const results = await Promise.all(
          Array.from({ length: 20 }, () => store.transactions.consume('tx-2', T0)),
        )
        expect(results.filter((r) => r !== undefined)).toEqual([{ n: 1 }])
        expect(await store.transactions.get('tx-2', T0)).toBeUndefined()
      })

      it('does not hand out an expired transaction', async () => {
        await store.transactions.create('tx-3', { n: 1 }, T0 + MIN)
        expect(await store.transactions.consume('tx-3', T0 + MIN)).toBeUndefined()
      })
    })

    describe('consents', () => {
      it('keys on subject, client, resource and redirect URI; expires; deletes', async () => {
        const key = { subject: 'u', client_id: 'c', resource: 'https://r.example/mcp' }
        const narrowed = { ...key, redirect_uri: 'http://127.0.0.1/cb' }
        await store.consents.put(key, { scopes: ['a', 'b'], created_at: T0 })
        await store.consents.put(narrowed, { scopes: ['a'], created_at: T0, expires_at: T0 + MIN })
        expect(await store.consents.get(key, T0)).toEqual({ scopes: ['a', 'b'], created_at: T0 })
        expect((await store.consents.get(narrowed, T0))?.scopes).toEqual(['a'])
        expect(
          await store.consents.get({ ...key, resource: 'https://other.example/mcp' }, T0),
        ).toBeUndefined()
        expect(await store.consents.get(narrowed, T0 + MIN)).toBeUndefined()
        await store.consents.put(key, { scopes: ['c'], created_at: T0 + 1 })
        expect((await store.consents.get(key, T0))?.scopes).toEqual(['c'])
        expect(await store.consents.delete(key)).toBe(true)
        expect(await store.consents.get(key, T0)).toBeUndefined()
      })
    })

    describe('authorization codes', () => {
      it('redeems once, then reports replay with the record (RFC 6749 §4.1.2)', async () => {
        const c = await newToken()
        await store.codes.put(c.hash, code('g-1'))
        const first = await store.codes.consume(c.hash, T0 + 1)
        expect(first).toMatchObject({ status: 'ok', record: { grant_id: 'g-1', consumed_at: T0 + 1 } })
        const again = await store.codes.consume(c.hash, T0 + 2)
        expect(again).toMatchObject({ status: 'replayed', record: { grant_id: 'g-1', consumed_at: T0 + 1 } })
      })

      it('gives ok to exactly one of 100 concurrent consumers; the other 99 see a replay', async () => {
        const c = await newToken()
        await store.codes.put(c.hash, code('g-2'))
        const results = await Promise.all(Array.from({ length: 100 }, () => store.codes.consume(c.hash, T0)))
        expect(results.filter((r) => r.status === 'ok')).toHaveLength(1)
        expect(results.filter((r) => r.status === 'replayed')).toHaveLength(99)
      })

      it('reports an expired code and leaves no trace for an unknown hash', async () => {
        const c = await newToken()
        await store.codes.put(c.hash, code('g-3', T0 + MIN))
        expect(await store.codes.consume(c.hash, T0 + MIN)).toEqual({ status: 'expired' })
        const before = await subject.raw()
        expect(await store.codes.consume(await sha256('not-a-code'), T0)).toEqual({ status: 'not_found' })
        expect(await subject.raw()).toBe(before)
        await expect(store.codes.put(c.hash, code('g-3'))).rejects.toBeInstanceOf(StorageError)
      })

      it('peeks at a pending code without redeeming it, and not at a redeemed or expired one', async () => {
        const c = await newToken()
        await store.codes.put(c.hash, code('g-4', T0 + MIN))
        const before = await subject.raw()
        expect(await store.codes.peek(c.hash, T0)).toEqual(code('g-4', T0 + MIN))
        expect(await subject.raw()).toBe(before)
        expect(await store.codes.peek(c.hash, T0 + MIN)).toBeUndefined()
        expect(await store.codes.peek(await sha256('not-a-code'), T0)).toBeUndefined()
        expect((await store.codes.consume(c.hash, T0 + 1)).status).toBe('ok')
        expect(await store.codes.peek(c.hash, T0 + 2)).toBeUndefined()
      })
    })

    describe('grants and access-token revocations', () => {
      it('lists by subject and client, and revokes the grant with all its tokens atomically', async () => {
        const f = await family(store, 'g-10')
        await store.grants.create(grant('g-11', { subject: 'user-2', created_at: T0 + 1 }))
        expect((await store.grants.list({ subject: 'user-1' })).map((g) => g.id)).toEqual(['g-10'])
        expect((await store.grants.list({ client_id: 'client-1' })).map((g) => g.id)).toEqual([
          'g-10',
          'g-11',
        ])
        await expect(store.grants.create(grant('g-10'))).rejects.toMatchObject({
          code: 'ERR_STORAGE_CONFLICT',
        })

        expect(await store.grants.revoke('g-10', T0 + 5)).toBe(true)
        expect(await store.grants.revoke('g-10', T0 + 6)).toBe(false)
        expect((await store.grants.get('g-10', T0 + 6))?.revoked_at).toBe(T0 + 5)
        expect((await store.refreshTokens.get(f.hash, T0 + 6))?.revoked_at).toBe(T0 + 5)
        expect(await rotateOnce(store, f, T0 + 7)).toEqual({ status: 'invalid' })
        expect((await store.grants.get('g-11', T0))?.revoked_at).toBeUndefined()
      })

      it('records a revoked access token once, until it expires, and never an expired one', async () => {
        const record = accessToken('g-x', 'at-2', T0 + MIN)
        expect(await store.accessTokens.get('at-2', T0)).toBeUndefined()
        expect(await store.accessTokens.revoke(record, T0 + 1)).toBe(true)
        expect(await store.accessTokens.get('at-2', T0 + 2)).toEqual({ ...record, revoked_at: T0 + 1 })
        // A second revocation changes nothing: the first time stands.
        expect(await store.accessTokens.revoke(record, T0 + 2)).toBe(false)
        expect((await store.accessTokens.get('at-2', T0 + 3))?.revoked_at).toBe(T0 + 1)
        expect(await store.accessTokens.get('at-2', T0 + MIN)).toBeUndefined()

        const before = await subject.raw()
        expect(await store.accessTokens.revoke(accessToken('g-x', 'at-3', T0), T0)).toBe(false)
        expect(await store.accessTokens.get('at-3', T0 - 1)).toBeUndefined()
        expect(await subject.raw()).toBe(before)
      })
    })

    describe('refresh-token rotation', () => {
      it('refuses to issue a second token under a stored hash, and keeps the first', async () => {
        const f = await family(store)
        await expect(store.refreshTokens.issue(f.hash, refresh('g-other'))).rejects.toMatchObject({
          code: 'ERR_STORAGE_CONFLICT',
        })
        expect((await store.refreshTokens.get(f.hash, T0))?.grant_id).toBe(f.grantId)
      })

      it('rotates: the successor inherits the family and the old token is marked rotated', async () => {
        const f = await family(store)
        const r = await rotateOnce(store, f, T0 + 1000)
        expect(r).toMatchObject({
          status: 'rotated',
          record: {
            grant_id: f.grantId,
            client_id: 'client-1',
            scopes: ['files:read'],
            created_at: T0 + 1000,
          },
        })
        const next = successorOf(r)
        expect(await sha256(next.token)).toBe(next.hash)
        expect((await store.refreshTokens.get(f.hash, T0 + 1000))?.rotated_at).toBe(T0 + 1000)
        expect((await rotateOnce(store, next, T0 + 2000)).status).toBe('rotated')
      })

      it('50 concurrent rotations inside the grace window install one successor and all get it', async () => {
        const f = await family(store)
        const results = await Promise.all(Array.from({ length: 50 }, () => rotateOnce(store, f, T0 + 1000)))
        expect(results.filter((r) => r.status === 'rotated')).toHaveLength(1)
        expect(results.filter((r) => r.status === 'grace')).toHaveLength(49)
        const tokens = new Set(results.map((r) => successorOf(r).token))
        const hashes = new Set(results.map((r) => successorOf(r).hash))
        expect(tokens.size).toBe(1)
        expect(hashes.size).toBe(1)
        const [winner] = [...tokens]
        expect(await sha256(winner!)).toBe([...hashes][0])
        // A late duplicate, still inside the window, gets the same successor too.
        const late = await rotateOnce(store, f, T0 + 1000 + 10_000)
        expect(late).toMatchObject({ status: 'grace', token: winner })
        expect((await store.grants.get(f.grantId, T0))?.revoked_at).toBeUndefined()
      })

      it('a presentation after the window is reuse: the whole family is revoked', async () => {
        const f = await family(store)
        const next = successorOf(await rotateOnce(store, f, T0 + 1000))
        const reuse = await rotateOnce(store, f, T0 + 1000 + 10_001)
        expect(reuse).toEqual({ status: 'reuse_detected', grant_id: f.grantId })
        expect((await store.grants.get(f.grantId, T0 + 20_000))?.revoked_at).toBe(T0 + 11_001)
        expect(await rotateOnce(store, next, T0 + 11_002)).toEqual({ status: 'invalid' })
        expect((await store.refreshTokens.get(next.hash, T0 + 11_002))?.revoked_at).toBe(T0 + 11_001)
      })

      it('50 concurrent presentations after the window: reuse detected, nothing issued', async () => {
        const f = await family(store)
        successorOf(await rotateOnce(store, f, T0 + 1000))
        const results = await Promise.all(Array.from({ length: 50 }, () => rotateOnce(store, f, T0 + 60_000)))
        expect(results.some((r) => r.status === 'reuse_detected')).toBe(true)
        expect(results.every((r) => r.status === 'reuse_detected' || r.status === 'invalid')).toBe(true)
        expect((await store.grants.get(f.grantId, T0 + 60_000))?.revoked_at).toBe(T0 + 60_000)
      })

      it('honours a per-call grace window', async () => {
        const f = await family(store)
        await rotateOnce(store, f, T0 + 1000)
        expect((await rotateOnce(store, f, T0 + 1001, 0)).status).toBe('reuse_detected')
      })

      it('treats a duplicate as reuse once the successor itself was rotated', async () => {
        const f = await family(store)
        const next = successorOf(await rotateOnce(store, f, T0 + 1000))
        await rotateOnce(store, next, T0 + 1500)
        expect((await rotateOnce(store, f, T0 + 2000)).status).toBe('reuse_detected')
      })

      it('refuses another client, an expired token and an unknown token without side effects', async () => {
        const f = await family(store)
        const successor = await newToken()
        const other = await store.refreshTokens.rotate({
          presentedHash: f.hash,
          presentedToken: f.token,
          client_id: 'client-2',
          successor: { ...successor, expires_at: T0 + MIN },
          now: T0 + 1,
        })
        expect(other).toEqual({ status: 'invalid' })
        expect((await store.refreshTokens.get(f.hash, T0 + 1))?.rotated_at).toBeUndefined()
        expect(await store.refreshTokens.get(successor.hash, T0 + 1)).toBeUndefined()
        expect(await rotateOnce(store, f, T0 + 60 * MIN)).toEqual({ status: 'invalid' })
        expect(await rotateOnce(store, await newToken(), T0)).toEqual({ status: 'invalid' })
        expect((await rotateOnce(store, f, T0 + 2)).status).toBe('rotated')
      })

      it('checks resource and scope preconditions in the rotation; a refusal changes nothing', async () => {
        const f = await family(store)
        const attempt = async (
          presented: { token: string; hash: string },
          expected: RefreshRotationPreconditions,
          now: number,
          clientId = 'client-1',
        ) => {
          const successor = await newToken()
          const outcome = await store.refreshTokens.rotate({
            presentedHash: presented.hash,
            presentedToken: presented.token,
            client_id: clientId,
            successor: { ...successor, expires_at: now + MIN },
            now,
            expect: expected,
          })
          return { outcome, successor }
        }
        const wrongResource = await attempt(f, { resource: 'https://other.example.com/mcp' }, T0 + 1)
        expect(wrongResource.outcome).toEqual({ status: 'refused', reason: 'resource' })
        const wider = await attempt(f, { scopes: ['files:read', 'files:write'] }, T0 + 2)
        expect(wider.outcome).toEqual({ status: 'refused', reason: 'scope' })
        // Another client's token is invalid whatever the preconditions say.
        expect((await attempt(f, { resource: 'x' }, T0 + 3, 'client-2')).outcome).toEqual({
          status: 'invalid',
        })
        for (const refused of [wrongResource, wider]) {
          expect(await store.refreshTokens.get(refused.successor.hash, T0 + 3)).toBeUndefined()
        }
        expect((await store.refreshTokens.get(f.hash, T0 + 3))?.rotated_at).toBeUndefined()

        const ok = await attempt(
          f,
          { resource: 'https://mcp.example.com/mcp', scopes: ['files:read'] },
          T0 + 4,
        )
        expect(ok.outcome).toMatchObject({ status: 'rotated', record: { scopes: ['files:read'] } })
        expect((await attempt(f, { scopes: [] }, T0 + 5)).outcome.status).toBe('grace')
        // A refused duplicate inside the window is no reuse: the grant stays active.
        const late = await attempt(f, { resource: 'https://other.example.com/mcp' }, T0 + 4 + 60 * 1000)
        expect(late.outcome).toEqual({ status: 'refused', reason: 'resource' })
        expect((await store.grants.get(f.grantId, T0 + 10))?.revoked_at).toBeUndefined()
      })

      it('rejects a hash that is not the hash of the token given with it', async () => {
        const f = await family(store)
        const successor = await newToken()
        await expect(
          store.refreshTokens.rotate({
            presentedHash: f.hash,
            presentedToken: 'something-else',
            client_id: 'client-1',
            successor: { ...successor, expires_at: T0 + MIN },
            now: T0,
          }),
        ).rejects.toMatchObject({ code: 'ERR_STORAGE_INVALID_ARGUMENT' })
      })
    })

    describe('signing keys', () => {
      it('stores keys with their private half sealed, lists, updates and deletes', async () => {
        const base = {
          alg: 'ES256',
          public_jwk: { kty: 'EC', crv: 'P-256', x: 'x1', y: 'y1' },
          private_jwk: { kty: 'EC', crv: 'P-256', x: 'x1', y: 'y1', d: 'private-d-value-1' },
          created_at: T0,
          status: 'active' as const,
        }
        await store.signingKeys.put({ ...base, kid: 'k2', activates_at: T0 + 1, status: 'pending' })
        await store.signingKeys.put({ ...base, kid: 'k1', activates_at: T0 })
        const keys = await store.signingKeys.list()
        expect(keys.map((k) => k.kid)).toEqual(['k1', 'k2'])
        expect(keys[0]?.private_jwk).toEqual(base.private_jwk)
        expect(await store.signingKeys.update('k1', { status: 'retired', retires_at: T0 + MIN })).toBe(true)
        expect(await store.signingKeys.update('nope', { status: 'retired' })).toBe(false)
        expect((await store.signingKeys.list())[0]).toMatchObject({ status: 'retired', retires_at: T0 + MIN })
        expect(await store.signingKeys.delete('k2')).toBe(true)
        expect((await store.signingKeys.list()).map((k) => k.kid)).toEqual(['k1'])
      })
    })

    describe('rate limits', () => {
      it('counts within a fixed window and starts a new one after it', async () => {
        expect(await store.rateLimits.hit('ip:1', 1000, T0)).toEqual({ count: 1, resetAt: T0 + 1000 })
        expect(await store.rateLimits.hit('ip:1', 1000, T0 + 999)).toEqual({ count: 2, resetAt: T0 + 1000 })
        expect(await store.rateLimits.hit('ip:1', 1000, T0 + 1000)).toEqual({ count: 1, resetAt: T0 + 2000 })
        expect((await store.rateLimits.hit('ip:2', 1000, T0)).count).toBe(1)
      })

      it('counts 50 concurrent hits exactly once each', async () => {
        const hits = await Promise.all(
          Array.from({ length: 50 }, () => store.rateLimits.hit('burst', MIN, T0)),
        )
        expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(
          Array.from({ length: 50 }, (_, i) => i + 1),
        )
      })
    })

    describe('audit', () => {
      it('appends and lists by time, type and limit, oldest first', async () => {
        await store.audit.append({ type: 'grant.created', at: T0, subject: 'u', grant_id: 'g' })
        await store.audit.append({ type: 'refresh.reuse', at: T0 + 2, detail: { why: 'late' } })
        await store.audit.append({ type: 'grant.created', at: T0 + 1, client_id: 'c' })
        const all = await store.audit.list({})
        expect(all.map((e) => e.at)).toEqual([T0, T0 + 1, T0 + 2])
        expect(all[2]).toMatchObject({ type: 'refresh.reuse', detail: { why: 'late' } })
        expect((await store.audit.list({ type: 'grant.created' })).map((e) => e.at)).toEqual([T0, T0 + 1])
        expect((await store.audit.list({ since: T0 + 1 })).map((e) => e.at)).toEqual([T0 + 1, T0 + 2])
        expect(await store.audit.list({ limit: 1 })).toHaveLength(1)
      })
    })

    describe('upstream tokens', () => {
      it('keeps them sealed per grant, returns them, expires and deletes them', async () => {
        const tokens = { access_token: 'gho_upstream', refresh_token: 'ghr_upstream', expires_in: 3600 }
        await store.upstreamTokens.put('g-up', tokens, T0 + MIN)
        expect(await store.upstreamTokens.get('g-up', T0)).toEqual(tokens)
        expect(await store.upstreamTokens.get('g-up', T0 + MIN)).toBeUndefined()
        await store.upstreamTokens.put('g-up', { access_token: 'newer' })
        expect(await store.upstreamTokens.get('g-up', T0 + 1e9)).toEqual({ access_token: 'newer' })
        expect(await store.upstreamTokens.delete('g-up')).toBe(true)
        expect(await store.upstreamTokens.get('g-up', T0)).toBeUndefined()
      })
    })

    describe('used JWT ids', () => {
      it('accepts a jti once per issuer until it expires; one of 20 concurrent callers wins', async () => {
        const wins = await Promise.all(
          Array.from({ length: 20 }, () => store.jtis.markUsed('https://idp.example', 'j1', T0 + MIN, T0)),
        )
        expect(wins.filter(Boolean)).toHaveLength(1)
        expect(await store.jtis.markUsed('https://other.example', 'j1', T0 + MIN, T0)).toBe(true)
        expect(await store.jtis.markUsed('https://idp.example', 'j1', T0 + 2 * MIN, T0 + MIN - 1)).toBe(false)
        expect(await store.jtis.markUsed('https://idp.example', 'j1', T0 + 2 * MIN, T0 + MIN)).toBe(true)
        expect(await store.jtis.markUsed('https://idp.example', 'j1', T0 + 3 * MIN, T0 + MIN + 1)).toBe(false)
      })
    })

    describe('sweep', () => {
      it('deletes expired rows of every kind, and what belongs to an expired grant, and nothing else', async () => {
        const now = T0 + 10 * MIN
        const past = now - 1
        const later = now + MIN
        // expired
        await store.clients.put({
          client_id: 'old',
          kind: 'cimd',
          metadata: {},
          created_at: T0,
          expires_at: past,
        })
        await store.transactions.create('tx-old', {}, past)
        await store.consents.put(
          { subject: 'u', client_id: 'c', resource: 'r' },
          { scopes: [], created_at: T0, expires_at: past },
        )
        await store.codes.put((await newToken()).hash, code('g-live', past))
        await store.grants.create(grant('g-ended', { expires_at: past }))
        await store.refreshTokens.issue((await newToken()).hash, refresh('g-ended', later))
        await store.accessTokens.revoke(accessToken('g-ended', 'at-ended', later), T0)
        await store.upstreamTokens.put('g-ended', { access_token: 'x' })
        await store.refreshTokens.issue((await newToken()).hash, refresh('g-live', past))
        await store.accessTokens.revoke(accessToken('g-live', 'at-old', past), T0)
        await store.signingKeys.put({
          kid: 'k-old',
          alg: 'ES256',
          public_jwk: { kty: 'EC' },
          private_jwk: { kty: 'EC', d: 'd' },
          created_at: T0,
          activates_at: T0,
          retires_at: past,
          status: 'retired',
        })
        await store.rateLimits.hit('rl-old', 1000, T0)
        await store.jtis.markUsed('iss', 'jti-old', past, T0)
        // live
        await store.clients.put({ client_id: 'live', kind: 'static', metadata: {}, created_at: T0 })
        await store.transactions.create('tx-live', {}, later)
        await store.grants.create(grant('g-live'))
        const liveRt = await newToken()
        await store.refreshTokens.issue(liveRt.hash, refresh('g-live', later))
        await store.upstreamTokens.put('g-live', { access_token: 'y' }, later)
        await store.rateLimits.hit('rl-live', 60 * MIN, T0)
        await store.jtis.markUsed('iss', 'jti-live', later, T0)
        await store.audit.append({ type: 'ancient', at: now - 91 * 24 * 60 * MIN })
        await store.audit.append({ type: 'recent', at: now })

        expect(await store.sweep(now)).toBe(14)
        expect(await store.sweep(now)).toBe(0)
        expect(await store.clients.get('live', now)).toBeDefined()
        expect(await store.transactions.get('tx-live', now)).toBeDefined()
        expect(await store.grants.get('g-live', now)).toBeDefined()
        expect(await store.refreshTokens.get(liveRt.hash, now)).toBeDefined()
        expect(await store.upstreamTokens.get('g-live', now)).toEqual({ access_token: 'y' })
        expect((await store.rateLimits.hit('rl-live', 60 * MIN, now)).count).toBe(2)
        expect(await store.jtis.markUsed('iss', 'jti-live', later, now)).toBe(false)
        expect((await store.audit.list({})).map((e) => e.type)).toEqual(['recent'])
        expect(await store.signingKeys.list()).toEqual([])
        expect(await subject.raw()).not.toContain('g-ended')
      })
    })

    describe('secrets at rest', () => {
      it('keeps codes, refresh tokens, client secrets, private keys and upstream tokens only as hashes or ciphertext', async () => {
        const secrets: string[] = []
        const clientSecret = randomToken()
        secrets.push(clientSecret)
        await store.clients.put({
          client_id: 'conf-1',
          kind: 'dynamic',
          secret_hash: await sha256(clientSecret),
          metadata: { client_name: 'c' },
          created_at: T0,
        })
        const c = await newToken()
        secrets.push(c.token)
        await store.codes.put(c.hash, code('g-at-rest'))
        await store.codes.consume(c.hash, T0)
        const f = await family(store, 'g-at-rest')
        secrets.push(f.token)
        const next = successorOf(await rotateOnce(store, f, T0 + 1))
        secrets.push(next.token)
        expect((await rotateOnce(store, f, T0 + 2)).status).toBe('grace')
        const d = randomToken()
        secrets.push(d)
        await store.signingKeys.put({
          kid: 'k-rest',
          alg: 'ES256',
          public_jwk: { kty: 'EC', x: 'pub' },
          private_jwk: { kty: 'EC', x: 'pub', d },
          created_at: T0,
          activates_at: T0,
          status: 'active',
        })
        const upstreamAccess = `gho_${randomToken()}`
        const upstreamRefresh = `ghr_${randomToken()}`
        secrets.push(upstreamAccess, upstreamRefresh)
        await store.upstreamTokens.put('g-at-rest', {
          access_token: upstreamAccess,
          refresh_token: upstreamRefresh,
        })

        const raw = (await subject.raw()) + (await subject.bytes?.())
        expect(raw).toContain(c.hash)
        expect(raw).toContain(next.hash)
        for (const secret of secrets) expect(raw).not.toContain(secret)
        // ...and the plaintext is still recoverable through the store, by those entitled to it.
        expect((await store.signingKeys.list())[0]?.private_jwk.d).toBe(d)
        expect((await store.upstreamTokens.get('g-at-rest', T0))?.['access_token']).toBe(upstreamAccess)
      })
    })

    if (options.sharedDatabase) {
      it('shares rate-limit counters between two stores over one database', async () => {
        const second = await subject.openSecond!()
        try {
          const hits = await Promise.all(
            Array.from({ length: 40 }, (_, i) =>
              (i % 2 === 0 ? store : second).rateLimits.hit('shared', MIN, T0),
            ),
          )
          expect(hits.map((h) => h.count).sort((a, b) => a - b)).toEqual(
            Array.from({ length: 40 }, (_, i) => i + 1),
          )
          expect((await second.rateLimits.hit('shared', MIN, T0 + 1)).count).toBe(41)
          expect((await store.rateLimits.hit('shared', MIN, T0 + 2)).count).toBe(42)
        } finally {
          await second.close()
        }
      })
    }
  })
}
