/**
 * Password hashing with PBKDF2-HMAC-SHA256, the slow key-derivation function Web Crypto offers.
 *
 * Encoded form: `pbkdf2-sha256$<iterations>$<salt base64url>$<hash base64url>`, 16-byte salt,
 * 32-byte hash. Passwords are NFC-normalized first, so the same characters typed on different
 * systems hash alike.
 *
 * @module
 */
import { base64url, base64urlDecode, bytesEqual, randomBytes, utf8 } from '../../protocol/random.js'

/** OWASP's recommendation for PBKDF2-HMAC-SHA256. */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000

const PREFIX = 'pbkdf2-sha256'
const SALT_BYTES = 16
const HASH_BYTES = 32
const MAX_ITERATIONS = 10_000_000
/** Longest accepted password. PBKDF2 pre-hashes long input, but absurd input is refused before any work. */
export const MAX_PASSWORD_LENGTH = 1024

/** Options of {@link hashPassword}. */
export interface HashPasswordOptions {
  /** PBKDF2 iteration count. Default {@link DEFAULT_PBKDF2_ITERATIONS}. */
  iterations?: number
}

/** A parsed encoded hash. */
interface ParsedHash {
  iterations: number
  salt: Uint8Array<ArrayBuffer>
  hash: Uint8Array
}

function assertIterations(iterations: number): void {
  if (!Number.isSafeInteger(iterations) || iterations < 1 || iterations > MAX_ITERATIONS) {
    throw new TypeError(`iterations must be an integer between 1 and ${MAX_ITERATIONS}`)
  }
}

async function derive(
  password: string,
  salt: Uint8Array<ArrayBuffer>,
  iterations: number,
): Promise<Uint8Array> {
  const key = await crypto.subtle.importKey('raw', utf8(password.normalize('NFC')), 'PBKDF2', false, [
    'deriveBits',
  ])
  const bits = await crypto.subtle.deriveBits(
    { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
    key,
    HASH_BYTES * 8,
  )
  return new Uint8Array(bits)
}

/** Parses an encoded hash; `undefined` when it is not one this module wrote. */
export function parsePasswordHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$')
  if (parts.length !== 4 || parts[0] !== PREFIX) return undefined
  const [, iterationText = '', saltText = '', hashText = ''] = parts
  if (!/^[1-9][0-9]{0,7}$/.test(iterationText)) return undefined
  const iterations = Number(iterationText)
  if (iterations > MAX_ITERATIONS) return undefined
  try {
    const salt = new Uint8Array(base64urlDecode(saltText))
    const hash = base64urlDecode(hashText)
    if (salt.length !== SALT_BYTES || hash.length !== HASH_BYTES) return undefined
    return { iterations, salt, hash }
  } catch {
    return undefined
  }
}

/**
 * Hashes a password for storage, with a fresh random salt.
 *
 * @example
 * ```ts
 * const encoded = await hashPassword('correct horse battery staple')
 * // 'pbkdf2-sha256$600000$…$…'
 * ```
 * @see [RFC 8018 §5.2](https://www.rfc-editor.org/rfc/rfc8018#section-5.2) PBKDF2
 * @see [OWASP Password Storage, PBKDF2](https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#pbkdf2) 600 000 iterations for HMAC-SHA-256
 */
export async function hashPassword(password: string, options: HashPasswordOptions = {}): Promise<string> {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS
  assertIterations(iterations)
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) {
    throw new TypeError(`a password is a string of at most ${MAX_PASSWORD_LENGTH} characters`)
  }
  const salt = new Uint8Array(randomBytes(SALT_BYTES))
  const hash = await derive(password, salt, iterations)
  return `${PREFIX}$${iterations}$${base64url(salt)}$${base64url(hash)}`
}

/**
 * Whether `password` matches an encoded hash from {@link hashPassword}, compared in constant time.
 * A malformed hash or an over-long password gives `false`.
 *
 * @see [RFC 8018 §5.2](https://www.rfc-editor.org/rfc/rfc8018#section-5.2) PBKDF2
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parsePasswordHash(encoded)
  if (parsed === undefined) return false
  if (typeof password !== 'string' || password.length > MAX_PASSWORD_LENGTH) return false
  return bytesEqual(await derive(password, parsed.salt, parsed.iterations), parsed.hash)
}
