/**
 * Errors of the proxy role.
 *
 * @module
 */
import { PortcullisError } from '../protocol/errors.js'

/**
 * Why the proxy could not do what was asked. A closed set: `switch` on it.
 *
 * - `ERR_INVALID_OPTIONS`: the configuration is incomplete or unsafe (thrown at construction).
 * - `ERR_UPSTREAM_DISCOVERY`: the upstream identity provider's metadata could not be obtained.
 * - `ERR_UPSTREAM_CALLBACK`: the identity provider's callback is not one this proxy can accept
 *   (`state`, `iss`, or an error answer).
 * - `ERR_UPSTREAM_TOKEN`: the upstream token endpoint refused the code or the refresh token.
 * - `ERR_UPSTREAM_IDENTITY`: no verified identity could be derived (ID token or userinfo).
 * - `ERR_NO_UPSTREAM_TOKEN`: no upstream token is kept for the caller's grant (revoked, expired,
 *   or the access token is not one this proxy issued).
 */
export type ProxyErrorCode =
  | 'ERR_INVALID_OPTIONS'
  | 'ERR_UPSTREAM_DISCOVERY'
  | 'ERR_UPSTREAM_CALLBACK'
  | 'ERR_UPSTREAM_TOKEN'
  | 'ERR_UPSTREAM_IDENTITY'
  | 'ERR_NO_UPSTREAM_TOKEN'

/** An error of the proxy. Never carries a token or a secret. */
export class ProxyError extends PortcullisError<ProxyErrorCode> {}
