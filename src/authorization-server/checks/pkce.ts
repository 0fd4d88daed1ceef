/**
 * PKCE at the authorization endpoint: a `code_challenge` is required, and only `S256`.
 *
 * @see [OAuth 2.1 §4.1.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.1) code_challenge REQUIRED
 * @see [RFC 7636 §4.3](https://www.rfc-editor.org/rfc/rfc7636#section-4.3)
 * @see anchors S7 (CVE-2025-4144): no downgrade, no `plain`
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { isValidCodeChallenge } from '../../protocol/pkce.js'

/** Returns the challenge, or throws `invalid_request`. Pure. */
export function checkPkce(challenge: string | undefined, method: string | undefined): string {
  if (challenge === undefined) throw new OAuthError('invalid_request', 'code_challenge is required (PKCE)')
  // RFC 7636 §4.3: an absent method means `plain`, which is refused like an explicit `plain`.
  if (method !== 'S256') throw new OAuthError('invalid_request', 'code_challenge_method must be S256')
  if (!isValidCodeChallenge(challenge)) throw new OAuthError('invalid_request', 'code_challenge is malformed')
  return challenge
}
