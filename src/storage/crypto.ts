/**
 * Encryption at rest on Web Crypto: AES-256-GCM with a random 96-bit IV, a versioned envelope,
 * and additional authenticated data that binds each ciphertext to its record kind and id, so a
 * ciphertext copied into another row fails to decrypt.
 *
 * Envelope: `pc1.<key id>.<iv>.<ciphertext+tag>` (base64url parts). The key id names which
 * key-encryption key sealed the value, so keys can be rotated (encrypt with the newest, decrypt
 * with any).
 *
 * @see [NIST SP 800-38D §8.2](https://csrc.nist.gov/pubs/sp/800/38/d/final) 96-bit random IVs
 * @see [RFC 5869](https://www.rfc-editor.org/rfc/rfc5869) HKDF
 * @module
 */

import { base64url, base64urlDecode, randomBytes, utf8 } from '../protocol/random.js'
import { StorageError } from './errors.js'
import type { EncryptionKeyInput } from './types.js'

const VERSION = 'pc1'
const MIN_SECRET_BYTES = 32

/** The envelope version prefix, for other implementations of the same format. */
export const ENVELOPE_VERSION = VERSION

/** The key id written into envelopes sealed under a {@link tokenDerivedKey}. */
export const TOKEN_KEY_ID = 'rt'

/** The HKDF `info` of {@link tokenDerivedKey} (salt empty, SHA-256, 32 bytes). */
export const TOKEN_KEY_INFO = 'portcullis refresh successor v1'

/** One AES-GCM key and the id written into the envelopes it seals. */
export interface EncryptionKey {
  id: string
  key: CryptoKey
}

/** The keys a store encrypts with (the first) and decrypts with (any). */
export interface Keyring {
  current: EncryptionKey
  byId: ReadonlyMap<string, EncryptionKey>
}

async function hkdf(ikm: Uint8Array<ArrayBuffer>, info: string): Promise<CryptoKey> {
  const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey', 'deriveBits'])
  return crypto.subtle.deriveKey(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8(info) },
    base,
    { name: 'AES-GCM', length: 256 },
    false,
    ['encrypt', 'decrypt'],
  )
}

function secretBytes(secret: EncryptionKeyInput): Uint8Array<ArrayBuffer> {
  let bytes: Uint8Array
  if (typeof secret === 'string') {
    try {
      bytes = base64urlDecode(secret)
    } catch {
      throw new StorageError('ERR_STORAGE_CONFIG', 'encryption key is not base64url')
    }
  } else {
    bytes = secret
  }
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new StorageError('ERR_STORAGE_CONFIG', `encryption key must be at least ${MIN_SECRET_BYTES} bytes`)
  }
  return new Uint8Array(bytes)
}

/**
 * Turns a key-encryption secret (at least 32 random bytes, raw or base64url) into an AES-256-GCM
 * key via HKDF-SHA256, and derives its public key id the same way with another `info`.
 */
export async function importEncryptionKey(secret: EncryptionKeyInput): Promise<EncryptionKey> {
  const ikm = secretBytes(secret)
  const base = await crypto.subtle.importKey('raw', ikm, 'HKDF', false, ['deriveKey', 'deriveBits'])
  const idBits = await crypto.subtle.deriveBits(
    { name: 'HKDF', hash: 'SHA-256', salt: new Uint8Array(0), info: utf8('portcullis storage key id v1') },
    base,
    64,
  )
  return { id: base64url(new Uint8Array(idBits)), key: await hkdf(ikm, 'portcullis storage kek v1') }
}

/** Builds a keyring from one secret or a list (newest first). Throws `ERR_STORAGE_CONFIG` on none. */
export async function importKeyring(secrets: EncryptionKeyInput | EncryptionKeyInput[]): Promise<Keyring> {
  const list = Array.isArray(secrets) ? secrets : [secrets]
  const keys = await Promise.all(list.map(importEncryptionKey))
  const current = keys[0]
  if (current === undefined) throw new StorageError('ERR_STORAGE_CONFIG', 'an encryption key is required')
  return { current, byId: new Map(keys.map((k) => [k.id, k])) }
}

/**
 * The key that seals a refresh token's successor: derived from the presented token itself, so only
 * a caller holding that token can read the successor back during the grace window.
 */
export async function tokenDerivedKey(token: string): Promise<EncryptionKey> {
  return { id: TOKEN_KEY_ID, key: await hkdf(utf8(token), TOKEN_KEY_INFO) }
}

/** The additional authenticated data binding a ciphertext to one row. */
export function recordAad(kind: string, id: string): string {
  return `${kind}\u0000${id}`
}

/** Encrypts `plaintext` into an envelope bound to `aad`. */
export async function encrypt(key: EncryptionKey, plaintext: string, aad: string): Promise<string> {
  const iv = new Uint8Array(randomBytes(12))
  const sealed = await crypto.subtle.encrypt(
    { name: 'AES-GCM', iv, additionalData: utf8(aad) },
    key.key,
    utf8(plaintext),
  )
  return [VERSION, key.id, base64url(iv), base64url(new Uint8Array(sealed))].join('.')
}

/**
 * Opens an envelope. Throws `StorageError` `ERR_STORAGE_DECRYPT` on an unknown version or key id,
 * a malformed envelope, or a failed authentication tag (wrong key or wrong `aad`).
 */
export async function decrypt(keys: Keyring | EncryptionKey, envelope: string, aad: string): Promise<string> {
  const parts = envelope.split('.')
  const [version, keyId, iv, sealed] = parts
  const key = 'byId' in keys ? keys.byId.get(keyId ?? '') : keys.id === keyId ? keys : undefined
  if (
    parts.length !== 4 ||
    version !== VERSION ||
    key === undefined ||
    iv === undefined ||
    sealed === undefined
  ) {
    throw new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext is malformed or sealed by an unknown key')
  }
  try {
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: new Uint8Array(base64urlDecode(iv)), additionalData: utf8(aad) },
      key.key,
      new Uint8Array(base64urlDecode(sealed)),
    )
    return new TextDecoder().decode(opened)
  } catch (cause) {
    throw new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext failed authentication', { cause })
  }
}
