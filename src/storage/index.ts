/**
 * Portable storage: the Store interface, the in-memory store and the encryption helpers. The SQL
 * stores are the `portcullis/storage/sqlite` and `portcullis/storage/postgres` subpath exports.
 *
 * @module
 */

export * from './crypto.js'
export * from './errors.js'
export { createMemoryStore, type MemoryStoreOptions } from './memory.js'
export { DEFAULT_REFRESH_GRACE_MS } from './refresh-rotation.js'
export type * from './types.js'
