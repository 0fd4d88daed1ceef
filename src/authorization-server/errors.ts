/**
 * Errors of the authorization server role.
 *
 * Two families meet at the endpoints:
 * - {@link AuthorizationServerError}: library errors (bad configuration, admin misuse) with a closed
 *   `ERR_...` union; never put on the wire.
 * - {@link AuthorizationPageError}: an authorization request that must be answered with a local error
 *   page and NEVER with a redirect, because the client or its redirect URI is not trusted yet.
 *   OAuth wire errors are `OAuthError` from the protocol layer.
 *
 * @module
 */
import { type ErrorOptions, PortcullisError } from '../protocol/errors.js'

/** Library error codes of the authorization server. */
export type AuthorizationServerErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_CLIENT_EXISTS'
  | 'ERR_INVALID_CLIENT_METADATA'
  | 'ERR_CIMD_FETCH'
  | 'ERR_SIGNING_KEY'

/** A configuration or administration error of the authorization server. */
export class AuthorizationServerError extends PortcullisError<AuthorizationServerErrorCode> {}

/**
 * An authorization request answered with a local error page, never with a redirect: the client is
 * unknown or the `redirect_uri` is not registered for it.
 *
 * @see [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1) "MUST NOT automatically redirect the user-agent to the invalid redirection URI"
 * @see [OAuth 2.1 §4.1.2.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.2.1)
 */
export class AuthorizationPageError extends PortcullisError<'ERR_AUTHORIZATION_PAGE'> {
  readonly status: number
  readonly title: string

  constructor(status: number, title: string, message: string, options: ErrorOptions = {}) {
    super('ERR_AUTHORIZATION_PAGE', message, options)
    this.status = status
    this.title = title
  }
}
