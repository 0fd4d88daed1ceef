/**
 * Errors of the stdio bridge.
 *
 * @module
 */

import { type ErrorOptions, PortcullisError } from '../protocol/errors.js'

/**
 * Why the bridge refused to start or to send a request.
 *
 * - `ERR_INVALID_OPTIONS`: the options or the environment's credentials are incomplete or
 *   contradictory.
 * - `ERR_INSECURE_URL`: a token would travel without TLS to a host other than this machine.
 * - `ERR_INVALID_TOKEN`: the static bearer token is not an RFC 6750 `b64token`.
 */
export type BridgeErrorCode = 'ERR_INVALID_OPTIONS' | 'ERR_INSECURE_URL' | 'ERR_INVALID_TOKEN'

/** An error of the stdio bridge. Never carries a token or a secret. */
export class BridgeError extends PortcullisError<BridgeErrorCode> {
  constructor(code: BridgeErrorCode, message: string, options: ErrorOptions = {}) {
    super(code, message, options)
  }
}
