/**
 * The rotation's cryptography on `node:crypto`: synchronous SHA-256, HKDF and AES-256-GCM, so a
 * refresh-token rotation costs no thread-pool round trip. The envelopes are exactly those of the
 * Web Crypto implementation (`pc1.rt.<iv>.<ciphertext+tag>`), so either side reads the other's.
 *
 * @see [RFC 5869](https://www.rfc-editor.org/rfc/rfc5869) HKDF
 * @see [NIST SP 800-38D](https://csrc.nist.gov/pubs/sp/800/38/d/final) GCM, 96-bit IVs, 128-bit tags
 * @module
 */

import { createCipheriv, createDecipheriv, createHash, createHmac, randomFillSync } from 'node:crypto'
import { ENVELOPE_VERSION, TOKEN_KEY_ID, TOKEN_KEY_INFO } from '../crypto.js'
import { StorageError } from '../errors.js'
import type { RotationCrypto } from '../refresh-rotation.js'

const TAG_BYTES = 16
const IV_BYTES = 12
// RFC 5869 §2.2: an absent salt is HashLen zero bytes.
const ZERO_SALT = Buffer.alloc(32)
const INFO_AND_COUNTER = Buffer.concat([Buffer.from(TOKEN_KEY_INFO, 'utf8'), Buffer.of(1)])

/**
 * HKDF-SHA256 with a zero salt and a 32-byte output: one Extract and one Expand block, written out
 * with HMAC because `hkdfSync` costs twice as much per call.
 *
 * @see [RFC 5869 §2.2, §2.3](https://www.rfc-editor.org/rfc/rfc5869#section-2.2)
 */
function tokenKey(token: string): Buffer {
  const prk = createHmac('sha256', ZERO_SALT).update(token, 'utf8').digest()
  return createHmac('sha256', prk).update(INFO_AND_COUNTER).digest()
}

// IVs come from a pool refilled from the CSPRNG: one call per 256 IVs instead of one per IV.
const ivPool = Buffer.alloc(IV_BYTES * 256)
let ivOffset = ivPool.length

function freshIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    randomFillSync(ivPool)
    ivOffset = 0
  }
  const iv = Buffer.from(ivPool.subarray(ivOffset, ivOffset + IV_BYTES))
  // Never hand out the same bytes twice.
  ivPool.fill(0, ivOffset, ivOffset + IV_BYTES)
  ivOffset += IV_BYTES
  return iv
}

function malformed(): StorageError {
  return new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext is malformed or sealed by an unknown key')
}

/** {@link RotationCrypto} on `node:crypto`. */
export const nodeRotationCrypto: RotationCrypto = {
  sha256(text) {
    return createHash('sha256').update(text, 'utf8').digest('base64url')
  },
  seal(token, plaintext, aad) {
    const iv = freshIv()
    const cipher = createCipheriv('aes-256-gcm', tokenKey(token), iv, { authTagLength: TAG_BYTES })
    cipher.setAAD(Buffer.from(aad, 'utf8'))
    const sealed = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()])
    return `${ENVELOPE_VERSION}.${TOKEN_KEY_ID}.${iv.toString('base64url')}.${sealed.toString('base64url')}`
  },
  open(token, envelope, aad) {
    const parts = envelope.split('.')
    const [version, keyId, iv, sealed] = parts
    if (
      parts.length !== 4 ||
      version !== ENVELOPE_VERSION ||
      keyId !== TOKEN_KEY_ID ||
      iv === undefined ||
      sealed === undefined
    ) {
      throw malformed()
    }
    const ivBytes = Buffer.from(iv, 'base64url')
    const bytes = Buffer.from(sealed, 'base64url')
    if (ivBytes.length !== IV_BYTES || bytes.length < TAG_BYTES) throw malformed()
    try {
      const decipher = createDecipheriv('aes-256-gcm', tokenKey(token), ivBytes, { authTagLength: TAG_BYTES })
      decipher.setAAD(Buffer.from(aad, 'utf8'))
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES))
      return Buffer.concat([
        decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)),
        decipher.final(),
      ]).toString('utf8')
    } catch (cause) {
      throw new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext failed authentication', { cause })
    }
  },
}
