/**
 * The JWS algorithms Portcullis verifies signatures with: access tokens at the resource server,
 * client assertions at the authorization server, the upstream provider's ID Tokens at the proxy.
 *
 * @module
 */

/**
 * The asymmetric JWS algorithms. `none` and the HMAC family are never among them: a verifier
 * holds no shared secret with the signer, and HMAC "verified" with a public key is the classic
 * algorithm-confusion attack.
 *
 * @see [RFC 8725 §2.1, §3.1](https://www.rfc-editor.org/rfc/rfc8725#section-3.1) algorithm verification
 * @see [RFC 7518 §3.1](https://www.rfc-editor.org/rfc/rfc7518#section-3.1) `alg` values
 * @see [RFC 9864 §2.2](https://www.rfc-editor.org/rfc/rfc9864#section-2.2) `Ed25519`
 */
export const ASYMMETRIC_JWS_ALGORITHMS: readonly string[] = [
  'ES256',
  'ES384',
  'ES512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'EdDSA',
  'Ed25519',
]
