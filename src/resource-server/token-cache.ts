/**
 * A bounded, time-limited cache keyed by a hash of the access token, so a hot token is verified
 * once and not on every request.
 *
 * @module
 */

import { sha256 } from '../protocol/random.js'

/** Options of the verified-token cache. */
export interface TokenCacheOptions {
  /** Most entries kept; the oldest entry not read since it was stored is dropped first. Default 10 000. */
  maxEntries?: number
  /**
   * Longest time an entry is reused, in seconds, whatever the token's own expiry. Default 300.
   * Bounds how long a key removed from the JWKS keeps validating tokens it signed.
   */
  maxAgeSeconds?: number
}

/** How many trailing characters of a credential {@link tokenKeyFunction} hashes. */
export const TOKEN_KEY_TAIL = 32

/**
 * A seeded hash of a credential's length and last {@link TOKEN_KEY_TAIL} characters, as a
 * 53-bit number: the verified-token cache's key. The credential is the `Authorization` value, so
 * its tail is the token's: the signature of a JWT, and an opaque token is random throughout.
 * The tail tells tokens apart as well as the whole would, at a twentieth of the cost of hashing
 * a whole JWT (the key is computed on every request).
 *
 * It is only a lookup key, not a proof: an entry found under it is used only when its
 * credential equals the presented one entirely, so two tokens that share a tail (one of them
 * forged) are never confused. The seed is secret and random per cache, so no one can aim a token
 * at another's key; that also keeps the final string comparison from telling anything: it only
 * ever runs on a credential equal to the cached one, except with a chance of about 2^-53 per try.
 */
export function tokenKeyFunction(): (credential: string) => number {
  const [s1, s2] = crypto.getRandomValues(new Uint32Array(2)) as unknown as [number, number]
  return (credential) => {
    const n = credential.length
    let a = s1 ^ n
    let b = s2
    for (let i = n > TOKEN_KEY_TAIL ? n - TOKEN_KEY_TAIL : 0; i < n; i++) {
      const c = credential.charCodeAt(i)
      // Two independent 32-bit FNV-style lanes (different odd multipliers), combined below.
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(b ^ c, 0x5bd1e995)
      b ^= b >>> 15
    }
    return (a >>> 0) * 0x200000 + (b >>> 11)
  }
}

interface Entry<V> {
  value: V
  /** Milliseconds since the epoch after which the entry is stale. */
  until: number
  /** Read since it was (re)inserted: it gets a second chance before eviction. */
  used: boolean
}

/**
 * A bounded map with per-entry deadlines. Keys are token hashes, never tokens. Eviction is
 * second-chance (CLOCK): a read only marks its entry, so the hit path never rewrites the map;
 * when full, the oldest entry goes unless it was read since it was inserted, in which case it
 * moves to the back once.
 */
export class TokenCache<V, K extends string | number = string> {
  readonly #entries = new Map<K, Entry<V>>()
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  /** The live entry under `key`; a stale entry is dropped. */
  get(key: K, now: number): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    if (entry.until <= now) {
      this.#entries.delete(key)
      return undefined
    }
    entry.used = true
    return entry.value
  }

  /** Stores `value` until `until` (ms since the epoch), evicting to stay within the bound. */
  set(key: K, value: V, until: number): void {
    if (this.#maxEntries <= 0) return
    this.#entries.delete(key)
    // Each pass either evicts or clears one mark, so this ends within two sweeps.
    while (this.#entries.size >= this.#maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [K, Entry<V>]
      this.#entries.delete(oldestKey)
      if (!oldest.used) break
      oldest.used = false
      this.#entries.set(oldestKey, oldest)
    }
    this.#entries.set(key, { value, until, used: false })
  }

  /** Number of entries held (stale ones included until touched). */
  get size(): number {
    return this.#entries.size
  }

  /** Whether `key` is held (stale or not), without marking it. */
  has(key: K): boolean {
    return this.#entries.has(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}

/** SHA-256 of the token's UTF-8 bytes, base64url: the introspection caches' key. */
export const hashToken: (token: string) => Promise<string> = sha256
