/**
 * Proof Key for Code Exchange, `S256` only: OAuth 2.1 requires `S256` from any client that can
 * compute it, and Portcullis never accepts `plain`.
 *
 * @see [RFC 7636](https://www.rfc-editor.org/rfc/rfc7636)
 * @see [OAuth 2.1 §4.1.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.1)
 * @module
 */

import { ProtocolError } from './errors.js'
import { randomToken, sha256, timingSafeEqual } from './random.js'

// RFC 7636 §4.1: code-verifier = 43*128unreserved
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/

// 32 bytes in unpadded base64url: 42 free characters, then one whose low 2 bits are zero.
const S256_CHALLENGE = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/

/**
 * A new code verifier: 32 random bytes in base64url, 43 characters, as RFC 7636 recommends.
 *
 * @see [RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)
 * @see [RFC 7636 §7.1](https://www.rfc-editor.org/rfc/rfc7636#section-7.1) entropy of the verifier
 */
export function generateCodeVerifier(): string {
  return randomToken(32)
}

/**
 * Whether `verifier` is 43 to 128 unreserved characters (`[A-Za-z0-9-._~]`).
 *
 * @see [RFC 7636 §4.1](https://www.rfc-editor.org/rfc/rfc7636#section-4.1)
 */
export function isValidCodeVerifier(verifier: string): boolean {
  return typeof verifier === 'string' && CODE_VERIFIER.test(verifier)
}

/**
 * Whether `challenge` can be an `S256` code challenge: the unpadded base64url encoding of a
 * SHA-256 digest, so exactly 43 characters whose last one carries no stray bits.
 *
 * @see [RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2)
 */
export function isValidCodeChallenge(challenge: string): boolean {
  return typeof challenge === 'string' && S256_CHALLENGE.test(challenge)
}

/**
 * The `S256` code challenge of a verifier: `BASE64URL(SHA256(ASCII(code_verifier)))`.
 *
 * @throws {ProtocolError} `ERR_PKCE` when the verifier is not 43 to 128 unreserved characters
 * @see [RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2)
 */
export async function computeCodeChallenge(verifier: string): Promise<string> {
  if (!isValidCodeVerifier(verifier)) {
    throw new ProtocolError('ERR_PKCE', 'code_verifier must be 43 to 128 unreserved characters')
  }
  // The verifier is ASCII, so its UTF-8 bytes are its ASCII bytes.
  return sha256(verifier)
}

/**
 * Whether `verifier` answers `challenge`. False unless the method is `S256` (the default; `plain`
 * and anything else are refused), the verifier is well formed, and its challenge equals
 * `challenge`, compared in constant time.
 *
 * @see [RFC 7636 §4.6](https://www.rfc-editor.org/rfc/rfc7636#section-4.6)
 * @see [OAuth 2.1 §4.1.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.3)
 */
export async function verifyCodeChallenge(
  verifier: string,
  challenge: string,
  method = 'S256',
): Promise<boolean> {
  if (method !== 'S256' || !isValidCodeVerifier(verifier) || typeof challenge !== 'string') return false
  return timingSafeEqual(await computeCodeChallenge(verifier), challenge)
}
