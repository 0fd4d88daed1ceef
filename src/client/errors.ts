/**
 * Errors of the client role.
 *
 * @module
 */

import { PortcullisError } from '../protocol/errors.js'

/**
 * Why the client could not obtain or use authorization. A closed set: `switch` on it.
 *
 * - `ERR_INVALID_OPTIONS`: the client was configured inconsistently (checked at construction).
 * - `ERR_DISCOVERY`: neither Protected Resource Metadata nor Authorization Server Metadata could be
 *   obtained, or a document was malformed.
 * - `ERR_RESOURCE_MISMATCH`: the Protected Resource Metadata names another resource (RFC 9728 §3.3).
 * - `ERR_ISSUER_MISMATCH`: the Authorization Server Metadata names another issuer (RFC 8414 §3.3).
 * - `ERR_PKCE_UNSUPPORTED`: the authorization server does not advertise PKCE `S256`.
 * - `ERR_INSECURE_URL`: an endpoint would be reached without TLS, or uses a scheme other than http(s).
 * - `ERR_NO_CLIENT_ID`: no pre-registered client, no usable Client ID Metadata Document and no
 *   registration endpoint: the user must supply a client id for this issuer.
 * - `ERR_REGISTRATION`: dynamic client registration was refused.
 * - `ERR_REDIRECT`: the user could not be sent to the authorization server, or no callback arrived.
 * - `ERR_STATE_MISMATCH`: the callback's `state` is missing or not the one sent.
 * - `ERR_ISS_MISMATCH`: the callback's `iss` is missing where required, or names another issuer (RFC 9207).
 * - `ERR_AUTHORIZATION_DENIED`: the authorization server answered the authorization request with
 *   an error (`oauthError` holds its code).
 * - `ERR_TOKEN`: the token endpoint refused a grant (`oauthError` holds its code).
 * - `ERR_REFRESH_FAILED`: the refresh token was refused and a new login was not possible.
 * - `ERR_STEP_UP_LIMIT`: the resource kept answering `insufficient_scope` after the allowed
 *   number of authorizations for one operation.
 * - `ERR_UNAUTHORIZED`: the resource refused a fresh token.
 */
export type ClientErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_DISCOVERY'
  | 'ERR_RESOURCE_MISMATCH'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_PKCE_UNSUPPORTED'
  | 'ERR_INSECURE_URL'
  | 'ERR_NO_CLIENT_ID'
  | 'ERR_REGISTRATION'
  | 'ERR_REDIRECT'
  | 'ERR_STATE_MISMATCH'
  | 'ERR_ISS_MISMATCH'
  | 'ERR_AUTHORIZATION_DENIED'
  | 'ERR_TOKEN'
  | 'ERR_REFRESH_FAILED'
  | 'ERR_STEP_UP_LIMIT'
  | 'ERR_UNAUTHORIZED'

/** Options of {@link ClientError}. */
export interface ClientErrorOptions {
  /** Operator diagnostics. Never a token or a secret. */
  detail?: string | undefined
  /** The underlying error. */
  cause?: unknown
  /** The OAuth error code a server answered with (`invalid_grant`, `access_denied`, ...). */
  oauthError?: string | undefined
  /** The HTTP status of the response that caused the error. */
  status?: number | undefined
}

/**
 * An error of the client role. `message` is safe to show; `detail` is for the operator; neither
 * ever holds a token, a code or a secret.
 */
export class ClientError extends PortcullisError<ClientErrorCode> {
  /** The OAuth error code the server answered with, when there was one. */
  readonly oauthError: string | undefined
  /** The HTTP status behind the error, when there was one. */
  readonly status: number | undefined

  constructor(code: ClientErrorCode, message: string, options: ClientErrorOptions = {}) {
    super(code, message, {
      ...(options.detail === undefined ? {} : { detail: options.detail }),
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    })
    this.oauthError = options.oauthError
    this.status = options.status
  }
}
