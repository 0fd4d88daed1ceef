/**
 * Random values, hashing and constant-time comparison on Web Crypto.
 *
 * @module
 */

const encoder = new TextEncoder()

/** Base64url without padding (RFC 4648 §5), as OAuth and JOSE use it. */
export function base64url(bytes: Uint8Array): string {
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** Decodes base64url (padding optional). Throws `TypeError` on characters outside the alphabet. */
export function base64urlDecode(text: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*={0,2}$/.test(text)) throw new TypeError('not base64url')
  const b64 = text.replace(/=+$/, '').replace(/-/g, '+').replace(/_/g, '/')
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4))
  const out = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i)
  return out
}

/** `byteLength` cryptographically random bytes. */
export function randomBytes(byteLength: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(byteLength))
}

/**
 * An unguessable token: `byteLength` random bytes (default 32, i.e. 256 bits) in base64url.
 * Used for `state`, codes, refresh tokens, client secrets and transaction ids.
 *
 * @see [RFC 6749 §10.10](https://www.rfc-editor.org/rfc/rfc6749#section-10.10) credentials guessing
 */
export function randomToken(byteLength = 32): string {
  return base64url(randomBytes(byteLength))
}

/** UTF-8 bytes of a string. */
export function utf8(text: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(text)
}

/** SHA-256 of the UTF-8 bytes of `text`, as base64url. How secrets are stored and looked up. */
export async function sha256(text: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', utf8(text))))
}

/**
 * Compares two strings in time that depends only on their lengths, never on where they differ.
 * Both are hashed first, so even the length of the secret does not leak through timing.
 *
 * @see [OAuth 2.1 §7.5.2](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-7.5.2)
 */
export async function timingSafeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest('SHA-256', utf8(a)),
    crypto.subtle.digest('SHA-256', utf8(b)),
  ])
  return bytesEqual(new Uint8Array(ha), new Uint8Array(hb))
}

/** Constant-time comparison of two byte arrays of equal length (false when lengths differ). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  let diff = 0
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!
  return diff === 0
}
