/**
 * The rotation's cryptography on `node:crypto`: synchronous SHA-256 and HMAC-SHA-512 (and, for
 * envelopes of earlier releases, HKDF and AES-256-GCM), so a refresh-token rotation costs no
 * thread-pool round trip. The envelopes are exactly those of the Web Crypto implementation (see
 * `successor-envelope.ts`), so either side reads the other's.
 *
 * @see [RFC 2104](https://www.rfc-editor.org/rfc/rfc2104) HMAC
 * @see [RFC 5869](https://www.rfc-editor.org/rfc/rfc5869) HKDF
 * @see [NIST SP 800-38D](https://csrc.nist.gov/pubs/sp/800/38/d/final) GCM, 96-bit IVs, 128-bit tags
 * @module
 */

import * as nodeCrypto from 'node:crypto'
import { createDecipheriv, createHmac } from 'node:crypto'
import { ENVELOPE_VERSION, TOKEN_KEY_ID, TOKEN_KEY_INFO } from '../crypto.js'
import { StorageError } from '../errors.js'
import type { RotationCrypto } from '../refresh-rotation.js'
import {
  applyKeystream,
  decodeSuccessor,
  keystreamMessage,
  successorCiphertext,
  successorEnvelope,
} from '../successor-envelope.js'

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

// `crypto.hash` (Node >= 20.12) is the one-shot form, about three times cheaper than createHash.
const oneShot = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash

/** SHA-256 of the UTF-8 text, base64url without padding, synchronously with `node:crypto`. */
export function sha256Base64url(text: string): string {
  return oneShot === undefined
    ? nodeCrypto.createHash('sha256').update(text, 'utf8').digest('base64url')
    : oneShot('sha256', text, 'base64url')
}

/** Keystream block `index` of a version 2 envelope: HMAC-SHA-512 keyed with the token. */
function keystreamBlock(token: string, aad: string, index: number): Uint8Array {
  return createHmac('sha512', token).update(keystreamMessage(aad, index)).digest()
}

function malformed(): StorageError {
  return new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext is malformed or sealed by an unknown key')
}

/** {@link RotationCrypto} on `node:crypto`. */
export const nodeRotationCrypto: RotationCrypto = {
  sha256: sha256Base64url,
  seal(token, plaintext, aad) {
    const bytes = Buffer.from(plaintext, 'utf8')
    return successorEnvelope(applyKeystream(bytes, (index) => keystreamBlock(token, aad, index)))
  },
  open(token, envelope, aad) {
    const ciphertext = successorCiphertext(envelope)
    if (ciphertext !== undefined) {
      return decodeSuccessor(applyKeystream(ciphertext, (index) => keystreamBlock(token, aad, index)))
    }
    // An envelope of an earlier release: AES-256-GCM under HKDF of the token.
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
