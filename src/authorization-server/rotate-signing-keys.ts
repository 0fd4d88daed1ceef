/**
 * Signing-key rotation on a store, without a running server: for an operator's command, while
 * the servers on that store keep running.
 *
 * @module
 */
import type { Store } from '../storage/types.js'
import { createKeyManager, type RotateKeysOptions } from './keys.js'
import { resolveLifetimes } from './options.js'

/** Options of {@link rotateSigningKeys}. */
export interface RotateSigningKeysOptions extends RotateKeysOptions {
  /**
   * The access-token lifetime of the servers on this store, in seconds: a replaced key stays
   * published until the last token it signed has expired. Default 3600, the servers' default.
   */
  accessTokenLifetime?: number
  /** Milliseconds since the epoch. Default `Date.now()`. */
  now?: number
}

/**
 * Adds a new signing key to `store`, as `AuthorizationServer.rotateKeys` does: published at
 * once, signing after `activateAfterMs`, the current keys published until their tokens expire
 * (or retired at once with `retireCurrent`). Every server on the store picks the new key up when
 * its key cache expires. The store encrypts the private half, as for any key.
 *
 * Rejects with `AuthorizationServerError` `ERR_INVALID_OPTIONS` for a lifetime that is not a positive
 * number of seconds.
 *
 * @see [RFC 7517 §5](https://www.rfc-editor.org/rfc/rfc7517#section-5) JWK Set
 */
export async function rotateSigningKeys(
  store: Store,
  options: RotateSigningKeysOptions = {},
): Promise<{ kid: string; activates_at: number }> {
  const { accessTokenLifetime, now, ...rotateOptions } = options
  const { accessToken } = resolveLifetimes(
    accessTokenLifetime === undefined ? {} : { accessToken: accessTokenLifetime },
  )
  return createKeyManager(store, { accessTokenMs: accessToken, cacheMs: 0 }).rotate(
    now ?? Date.now(),
    rotateOptions,
  )
}
