/**
 * The envelope a rotated refresh token keeps its successor in, so that a retry with the same token
 * within the grace window gets the same successor back (see `refresh-rotation.ts`).
 *
 * Version 2, `pc2.rt.<ciphertext>`: the successor's UTF-8 bytes XORed with a keystream of
 * HMAC-SHA-512 blocks keyed with the presented token, over a label, the row's additional data and
 * a block counter. Only a holder of the presented token can compute the keystream, and each
 * presented token seals exactly one stored successor, so the keystream is never reused. The
 * envelope carries no tag of its own: the row records the successor's SHA-256, and an opened
 * successor counts only if it hashes to it (`openSuccessor`), which also refuses a wrong token or
 * a tampered envelope. One HMAC per 64 bytes costs a fraction of an AES-GCM seal under an HKDF key.
 *
 * Version 1 envelopes (`pc1.rt.<iv>.<ciphertext+tag>`, AES-256-GCM under HKDF-SHA256 of the token)
 * written by earlier releases still open.
 *
 * @see [RFC 2104](https://www.rfc-editor.org/rfc/rfc2104) HMAC
 * @module
 */

import { base64url, base64urlDecode, utf8 } from '../protocol/random.js'
import { StorageError } from './errors.js'

/** The prefix of a version 2 successor envelope. */
const SUCCESSOR_ENVELOPE_PREFIX = 'pc2.rt.'

/** HMAC-SHA-512 output, the keystream block. */
const KEYSTREAM_BLOCK_BYTES = 64

// Successors are tokens of a few dozen bytes; a counter byte covers far more.
const MAX_BLOCKS = 255

/** The message of keystream block `index`: label, NUL, additional data, NUL, counter. */
export function keystreamMessage(aad: string, index: number): Uint8Array<ArrayBuffer> {
  const head = utf8(`portcullis refresh successor v2\u0000${aad}\u0000`)
  const message = new Uint8Array(head.length + 1)
  message.set(head)
  message[head.length] = index
  return message
}

/** The number of keystream blocks `length` bytes need; throws past the format's bound. */
function keystreamBlocks(length: number): number {
  const blocks = Math.ceil(length / KEYSTREAM_BLOCK_BYTES)
  if (blocks > MAX_BLOCKS) {
    throw new StorageError('ERR_STORAGE_INVALID_ARGUMENT', 'a sealed successor is limited to 16 KiB')
  }
  return blocks
}

/** XORs `bytes` with the keystream, in place; throws past the format's bound. */
export function applyKeystream(bytes: Uint8Array, keystream: (index: number) => Uint8Array): Uint8Array {
  const blocks = keystreamBlocks(bytes.length)
  for (let block = 0; block < blocks; block++) {
    const stream = keystream(block)
    const start = block * KEYSTREAM_BLOCK_BYTES
    const end = Math.min(bytes.length, start + KEYSTREAM_BLOCK_BYTES)
    for (let i = start; i < end; i++) bytes[i]! ^= stream[i - start]!
  }
  return bytes
}

/** The ciphertext bytes of a version 2 envelope, or `undefined` when `envelope` is not one. */
export function successorCiphertext(envelope: string): Uint8Array | undefined {
  if (!envelope.startsWith(SUCCESSOR_ENVELOPE_PREFIX)) return undefined
  const body = envelope.slice(SUCCESSOR_ENVELOPE_PREFIX.length)
  if (body === '' || !/^[\w-]+$/.test(body)) {
    throw new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext is malformed or sealed by an unknown key')
  }
  return base64urlDecode(body)
}

/** A version 2 envelope around `ciphertext`. */
export function successorEnvelope(ciphertext: Uint8Array): string {
  return `${SUCCESSOR_ENVELOPE_PREFIX}${base64url(ciphertext)}`
}

/** Web Crypto HMAC-SHA-512 keystream blocks keyed with `token`. */
async function webKeystream(token: string, aad: string, blocks: number): Promise<Uint8Array[]> {
  const key = await crypto.subtle.importKey('raw', utf8(token), { name: 'HMAC', hash: 'SHA-512' }, false, [
    'sign',
  ])
  return Promise.all(
    Array.from(
      { length: blocks },
      async (_, index) => new Uint8Array(await crypto.subtle.sign('HMAC', key, keystreamMessage(aad, index))),
    ),
  )
}

/** Seals `plaintext` into a version 2 envelope on Web Crypto. */
export async function sealSuccessorV2(token: string, plaintext: string, aad: string): Promise<string> {
  const bytes = utf8(plaintext)
  const stream = await webKeystream(token, aad, keystreamBlocks(bytes.length))
  return successorEnvelope(applyKeystream(bytes, (index) => stream[index]!))
}

/** Opens a version 2 envelope on Web Crypto; the caller checks the result against its hash. */
export async function openSuccessorV2(token: string, ciphertext: Uint8Array, aad: string): Promise<string> {
  const stream = await webKeystream(token, aad, keystreamBlocks(ciphertext.length))
  return decodeSuccessor(applyKeystream(new Uint8Array(ciphertext), (index) => stream[index]!))
}

/** The opened bytes as text; bytes that are no UTF-8 come from a wrong token or a tampered row. */
export function decodeSuccessor(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch (cause) {
    throw new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext failed authentication', { cause })
  }
}
