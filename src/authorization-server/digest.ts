/**
 * How the server hashes secrets and compares them. Codes, refresh tokens and client secrets are
 * stored and looked up by SHA-256 (base64url), the same as `sha256()` of the protocol layer; the
 * function is injectable because Web Crypto's asynchronous digest costs a thread-pool round trip per
 * call, where Node's synchronous `createHash` does not.
 *
 * @module
 */
import { isValidCodeVerifier } from '../protocol/pkce.js'
import { bytesEqual, sha256, utf8 } from '../protocol/random.js'

/** SHA-256 of the UTF-8 text, base64url without padding. */
export type Sha256 = (text: string) => string | Promise<string>

/** The portable default: Web Crypto. */
export const webSha256: Sha256 = sha256

/**
 * Constant-time equality of two hashes or other fixed-length encodings: the time depends only on
 * the lengths, which are public (43 characters for a base64url SHA-256).
 *
 * @see [OAuth 2.1 §7.5.2](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-7.5.2)
 */
export function constantTimeEqual(a: string, b: string): boolean {
  return bytesEqual(utf8(a), utf8(b))
}

/**
 * RFC 7636 §4.6 with S256: `BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge`, compared in
 * constant time (anchors S20).
 *
 * @see [RFC 7636 §4.6](https://www.rfc-editor.org/rfc/rfc7636#section-4.6)
 */
export async function verifyPkce(
  hash: Sha256,
  verifier: string,
  challenge: string,
  method: string,
): Promise<boolean> {
  if (method !== 'S256' || !isValidCodeVerifier(verifier)) return false
  return constantTimeEqual(await hash(verifier), challenge)
}
