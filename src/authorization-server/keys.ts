/**
 * Token-signing keys: ES256, generated on first start, kept in the store (which encrypts the
 * private half), published at the JWKS endpoint, rotated without breaking anyone.
 *
 * Rotation publishes the new key first (`pending`, `activates_at` in the future), so every replica
 * and every resource server's JWKS cache has it before the first token it signs; the previous key
 * stays published until the last token it signed has expired (`retires_at`). Every replica reads the
 * same store, so they all sign with and publish the same keys.
 *
 * @see [RFC 7517 §5](https://www.rfc-editor.org/rfc/rfc7517#section-5) JWK Set
 * @see [RFC 9068 §4](https://www.rfc-editor.org/rfc/rfc9068#section-4) validating JWT access tokens (kid lookup)
 * @module
 */
import { exportJWK, generateKeyPair, importJWK, type JWK } from 'jose'
import { randomToken } from '../protocol/random.js'
import type { SigningKeyRecord, Store } from '../storage/types.js'

/** The signing algorithm of access tokens. */
export const SIGNING_ALG = 'ES256'

/** A key ready to sign with. */
export interface ActiveSigningKey {
  kid: string
  alg: string
  key: CryptoKey
  /** The private JWK the key was imported from, for signers outside Web Crypto. */
  privateJwk: JsonWebKey
}

/** Options of {@link KeyManager.rotate}. */
export interface RotateKeysOptions {
  /**
   * Delay before the new key signs, in milliseconds: longer than every JWKS cache (replicas' key
   * cache and resource servers'). Default 15 minutes.
   */
  activateAfterMs?: number
  /**
   * Stop publishing the current keys right away (key compromise): tokens they signed stop
   * verifying. Implies immediate activation. Default `false`.
   */
  retireCurrent?: boolean
}

/** What {@link KeyManager} offers. */
export interface KeyManager {
  /** The key to sign with at `now`; generates the first key when the store has none. */
  signingKey(now: number): Promise<ActiveSigningKey>
  /** The public keys to publish at `now`. */
  publicJwks(now: number): Promise<{ keys: JWK[] }>
  /** The public key with this `kid`, if published at `now`. */
  verificationKey(kid: string, now: number): Promise<CryptoKey | undefined>
  /** Adds a new key; see {@link RotateKeysOptions}. */
  rotate(now: number, options?: RotateKeysOptions): Promise<{ kid: string; activates_at: number }>
}

interface Cache {
  at: number
  records: SigningKeyRecord[]
}

function published(record: SigningKeyRecord, now: number): boolean {
  return record.retires_at === undefined || record.retires_at > now
}

/**
 * Creates the key manager over the store. `accessTokenMs` is how long a retired key stays
 * published; `cacheMs` how long the store's key list is reused in process.
 */
export function createKeyManager(
  store: Store,
  options: { accessTokenMs: number; cacheMs: number },
): KeyManager {
  let cache: Cache | undefined
  let loading: Promise<SigningKeyRecord[]> | undefined
  const imported = new Map<string, Promise<CryptoKey>>()

  async function generate(now: number, activatesAt: number, status: SigningKeyRecord['status']) {
    const { privateKey, publicKey } = await generateKeyPair(SIGNING_ALG, { extractable: true })
    const kid = randomToken(16)
    const record: SigningKeyRecord = {
      kid,
      alg: SIGNING_ALG,
      public_jwk: { ...(await exportJWK(publicKey)), kid, alg: SIGNING_ALG, use: 'sig' } as JsonWebKey,
      private_jwk: { ...(await exportJWK(privateKey)), kid, alg: SIGNING_ALG } as JsonWebKey,
      created_at: now,
      activates_at: activatesAt,
      status,
    }
    await store.signingKeys.put(record)
    return record
  }

  async function load(now: number, force = false): Promise<SigningKeyRecord[]> {
    if (!force && cache !== undefined && now - cache.at < options.cacheMs && now >= cache.at)
      return cache.records
    if (loading === undefined) {
      loading = (async () => {
        let records = await store.signingKeys.list()
        if (!records.some((r) => published(r, now) && r.activates_at <= now)) {
          // First start (or every key retired): make one active key. Two replicas racing here each
          // add one; both are published and either signs, so the race is harmless.
          await generate(now, now, 'active')
          records = await store.signingKeys.list()
        }
        cache = { at: now, records }
        return records
      })().finally(() => {
        loading = undefined
      })
    }
    return loading
  }

  function importPrivate(record: SigningKeyRecord): Promise<CryptoKey> {
    let key = imported.get(`priv:${record.kid}`)
    if (key === undefined) {
      key = importJWK(record.private_jwk as JWK, record.alg) as Promise<CryptoKey>
      imported.set(`priv:${record.kid}`, key)
    }
    return key
  }

  function current(records: SigningKeyRecord[], now: number): SigningKeyRecord | undefined {
    let best: SigningKeyRecord | undefined
    for (const r of records) {
      if (!published(r, now) || r.activates_at > now) continue
      if (
        best === undefined ||
        r.activates_at > best.activates_at ||
        (r.activates_at === best.activates_at && r.kid > best.kid)
      )
        best = r
    }
    return best
  }

  return {
    async signingKey(now) {
      let records = await load(now)
      let record = current(records, now)
      if (record === undefined) {
        records = await load(now, true)
        record = current(records, now)
      }
      if (record === undefined) throw new Error('no signing key')
      if (record.status === 'pending') {
        // A pending key reached its activation time: record that, for operators reading the store.
        void store.signingKeys.update(record.kid, { status: 'active' }).catch(() => undefined)
      }
      return {
        kid: record.kid,
        alg: record.alg,
        key: await importPrivate(record),
        privateJwk: record.private_jwk,
      }
    },

    async publicJwks(now) {
      const records = await load(now)
      return { keys: records.filter((r) => published(r, now)).map((r) => r.public_jwk as JWK) }
    },

    async verificationKey(kid, now) {
      let records = await load(now)
      let record = records.find((r) => r.kid === kid)
      if (record === undefined) {
        records = await load(now, true)
        record = records.find((r) => r.kid === kid)
      }
      if (record === undefined || !published(record, now)) return undefined
      let key = imported.get(`pub:${kid}`)
      if (key === undefined) {
        key = importJWK(record.public_jwk as JWK, record.alg) as Promise<CryptoKey>
        imported.set(`pub:${kid}`, key)
      }
      return key
    },

    async rotate(now, rotateOptions = {}) {
      const immediate = rotateOptions.retireCurrent === true
      const activatesAt = immediate ? now : now + (rotateOptions.activateAfterMs ?? 15 * 60_000)
      const existing = await store.signingKeys.list()
      const record = await generate(now, activatesAt, immediate ? 'active' : 'pending')
      for (const old of existing) {
        if (!published(old, now)) continue
        // The old key keeps verifying until the last token it can still sign has expired.
        const retiresAt = immediate
          ? now
          : Math.max(activatesAt, old.activates_at) + options.accessTokenMs + 60_000
        if (old.retires_at === undefined || old.retires_at > retiresAt) {
          await store.signingKeys.update(old.kid, { status: 'retired', retires_at: retiresAt })
        }
      }
      cache = undefined
      return { kid: record.kid, activates_at: activatesAt }
    },
  }
}
