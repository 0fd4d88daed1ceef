/**
 * A bounded, time-limited cache keyed by a hash of the access token, so a hot token is verified
 * once and not on every request.
 *
 * @module
 */

import { sha256 } from '../protocol/random.js'

/** Options of the verified-token cache. */
export interface TokenCacheOptions {
  /** Most entries kept; the least recently used is dropped first. Default 10 000. */
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
}

/**
 * A least-recently-used map with per-entry deadlines. Keys are token hashes, never tokens.
 */
export class TokenCache<V> {
  readonly #entries = new Map<string, Entry<V>>()
  readonly #maxEntries: number

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries
  }

  /** The live entry under `key`, refreshed as most recently used; stale entries are dropped. */
  get(key: string, now: number): V | undefined {
    const entry = this.#entries.get(key)
    if (entry === undefined) return undefined
    this.#entries.delete(key)
    if (entry.until <= now) return undefined
    this.#entries.set(key, entry)
    return entry.value
  }

  /** Stores `value` until `until` (ms since the epoch), evicting the oldest entry when full. */
  set(key: string, value: V, until: number): void {
    if (this.#maxEntries <= 0) return
    this.#entries.delete(key)
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next()
      if (oldest.done !== true) this.#entries.delete(oldest.value)
    }
    this.#entries.set(key, { value, until })
  }

  /** Number of entries held (stale ones included until touched). */
  get size(): number {
    return this.#entries.size
  }

  clear(): void {
    this.#entries.clear()
  }
}

/** The default token hash: SHA-256 of the token's UTF-8 bytes, base64url. */
export const hashToken: (token: string) => Promise<string> = sha256
