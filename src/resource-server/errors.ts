/**
 * Errors of the resource server: why a token was refused, and why a configuration was.
 *
 * @module
 */

import { type ErrorOptions, PortcullisError } from '../protocol/errors.js'

/**
 * Why a {@link Verifier} refused an access token. Every code but `ERR_JWKS_UNAVAILABLE` and
 * `ERR_INTROSPECTION_UNAVAILABLE` means "the token is not acceptable" and is answered with
 * `401 invalid_token`; those two mean the keys or the introspection endpoint could not be
 * reached, so the token could not be judged (`503`).
 *
 * - `ERR_MALFORMED`: not a JWT, undecodable parts, a missing or mistyped claim, a wrong `typ`.
 * - `ERR_SIGNATURE`: the signature does not verify.
 * - `ERR_EXPIRED`: `exp` is in the past (beyond the clock tolerance).
 * - `ERR_NOT_YET_VALID`: `nbf` or `iat` is in the future (beyond the clock tolerance).
 * - `ERR_MISSING_EXP`: the token has no `exp`.
 * - `ERR_ISSUER`: `iss` is not the configured issuer.
 * - `ERR_AUDIENCE`: `aud` does not name this resource.
 * - `ERR_ALGORITHM`: `alg` is not on the allow-list (`none` and HMAC never are).
 * - `ERR_UNKNOWN_KEY`: no key in the JWKS matches, even after the one allowed refetch.
 * - `ERR_JWKS_UNAVAILABLE`: the JWKS (or the AS metadata naming it) could not be fetched or read.
 * - `ERR_INACTIVE`: introspection says `active: false`.
 * - `ERR_INTROSPECTION_UNAVAILABLE`: the introspection endpoint failed or answered nonsense.
 */
export type TokenVerificationErrorCode =
  | 'ERR_MALFORMED'
  | 'ERR_SIGNATURE'
  | 'ERR_EXPIRED'
  | 'ERR_NOT_YET_VALID'
  | 'ERR_MISSING_EXP'
  | 'ERR_ISSUER'
  | 'ERR_AUDIENCE'
  | 'ERR_ALGORITHM'
  | 'ERR_UNKNOWN_KEY'
  | 'ERR_JWKS_UNAVAILABLE'
  | 'ERR_INACTIVE'
  | 'ERR_INTROSPECTION_UNAVAILABLE'

/**
 * A refused access token. The message is generic and the token is never part of it; `detail`
 * names the check that failed, for the operator.
 *
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) `invalid_token`
 */
export class TokenVerificationError extends PortcullisError<TokenVerificationErrorCode> {
  constructor(code: TokenVerificationErrorCode, options: ErrorOptions = {}) {
    super(code, messageFor(code), options)
  }

  /** Whether the failure is on the server's side (keys or introspection unreachable). */
  get unavailable(): boolean {
    return this.code === 'ERR_JWKS_UNAVAILABLE' || this.code === 'ERR_INTROSPECTION_UNAVAILABLE'
  }
}

function messageFor(code: TokenVerificationErrorCode): string {
  switch (code) {
    case 'ERR_JWKS_UNAVAILABLE':
      return 'The signing keys could not be obtained'
    case 'ERR_INTROSPECTION_UNAVAILABLE':
      return 'The introspection endpoint could not be used'
    default:
      return 'The access token is not acceptable'
  }
}

/** `ERR_INVALID_OPTIONS`: a missing, malformed or contradictory option, found at construction. */
export type ResourceServerErrorCode = 'ERR_INVALID_OPTIONS'

/** A resource server that cannot be built as configured. Fail closed: thrown at construction. */
export class ResourceServerError extends PortcullisError<ResourceServerErrorCode> {}

/** Throws `ResourceServerError('ERR_INVALID_OPTIONS')`. */
export function invalidOptions(message: string, detail?: string): never {
  throw new ResourceServerError('ERR_INVALID_OPTIONS', message, detail === undefined ? {} : { detail })
}
