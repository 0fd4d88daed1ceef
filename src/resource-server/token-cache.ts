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
  /**
   * How to hash a token into a cache key. Default: SHA-256 through Web Crypto. The Node entry
   * point passes a synchronous `node:crypto` hash, which avoids a thread-pool round trip.
   */
  hash?: (token: string) => string | Promise<string>
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
export class TokenCache<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  /** The live entry under `key`; a stale entry is dropped. */
  get(key: string, now: number): V | undefined {
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
  set(key: string, value: V, until: number): void {
    if (this.#maxEntries <= 0) return
    this.#entries.delete(key)
    // Each pass either evicts or clears one mark, so this ends within two sweeps.
    while (this.#entries.size >= this.#maxEntries) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, Entry<V>]
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
  has(key: string): boolean {
    return this.#entries.has(key)
  }

  clear(): void {
    this.#entries.clear()
  }
}

/** The default token hash: SHA-256 of the token's UTF-8 bytes, base64url. */
export const hashToken: (token: string) => Promise<string> = sha256
