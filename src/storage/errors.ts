/**
 * Errors of the storage layer.
 *
 * @module
 */

import { PortcullisError } from '../protocol/errors.js'

/** Library error codes of the storage layer. */
export type StorageErrorCode =
  /** Missing or unusable configuration (no key-encryption key, a key too short). */
  | 'ERR_STORAGE_CONFIG'
  /** The schema could not be brought up to date. */
  | 'ERR_STORAGE_MIGRATION'
  /** A record with that id or hash exists already. */
  | 'ERR_STORAGE_CONFLICT'
  /** A ciphertext failed authentication: wrong key, or a value moved between rows. */
  | 'ERR_STORAGE_DECRYPT'
  /** An argument contradicts itself (a hash that is not the hash of the token given with it). */
  | 'ERR_STORAGE_INVALID_ARGUMENT'
  /** The database cannot be reached right now (down, restarting, connection lost); retry later. */
  | 'ERR_STORAGE_UNAVAILABLE'

/** An error raised by a Store. Messages never contain a token, a secret or a key. */
export class StorageError extends PortcullisError<StorageErrorCode> {}
