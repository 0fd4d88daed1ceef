/**
 * The parts of refresh-token rotation every store shares: checking the input, sealing the
 * successor under a key derived from the presented token, and the decision table. Each store
 * runs {@link decideRotation} inside its own atomic step.
 *
 * @see [OAuth 2.1 §4.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3.1)
 * @see [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2)
 * @module
 */

import { sha256 } from '../protocol/random.js'
import { decrypt, encrypt, recordAad, tokenDerivedKey } from './crypto.js'
import { StorageError } from './errors.js'
import type { GrantRecord, RefreshRotationInput, RefreshTokenRecord } from './types.js'

/** Default grace window for duplicate presentations of a just-rotated refresh token. */
export const DEFAULT_REFRESH_GRACE_MS = 10_000

/**
 * Checks that the hashes given are the hashes of the tokens given, and seals the successor token
 * so that only a holder of the presented token can open it. Runs before the atomic step.
 */
export async function sealSuccessor(input: RefreshRotationInput): Promise<string> {
  const [presented, successor] = await Promise.all([
    sha256(input.presentedToken),
    sha256(input.successor.token),
  ])
  // Both sides of each comparison come from the same caller: nothing secret to time.
  if (presented !== input.presentedHash || successor !== input.successor.hash) {
    throw new StorageError('ERR_STORAGE_INVALID_ARGUMENT', 'a refresh token hash does not match its token')
  }
  const key = await tokenDerivedKey(input.presentedToken)
  return encrypt(key, input.successor.token, recordAad('refresh_successor', input.presentedHash))
}

/** Opens a successor sealed by {@link sealSuccessor}. */
export async function openSuccessor(input: RefreshRotationInput, sealed: string): Promise<string> {
  const key = await tokenDerivedKey(input.presentedToken)
  return decrypt(key, sealed, recordAad('refresh_successor', input.presentedHash))
}

/** The successor record installed by a winning rotation (RFC 6749 §6: same scope as the presented token). */
export function successorRecord(
  presented: RefreshTokenRecord,
  input: RefreshRotationInput,
): RefreshTokenRecord {
  return {
    grant_id: presented.grant_id,
    client_id: presented.client_id,
    subject: presented.subject,
    resource: presented.resource,
    scopes: [...presented.scopes],
    created_at: input.now,
    expires_at: input.successor.expires_at,
  }
}

/** What a store does with a presentation. */
export type RotationDecision = 'invalid' | 'rotate' | 'grace' | 'reuse'

/**
 * The decision table, given the presented token's record, its grant, and (when it was rotated) its
 * successor's record, all read inside the store's atomic step.
 */
export function decideRotation(
  presented: RefreshTokenRecord | undefined,
  grant: GrantRecord | undefined,
  successor: RefreshTokenRecord | undefined,
  input: RefreshRotationInput,
  graceMs: number,
): RotationDecision {
  const { now } = input
  if (presented === undefined || grant === undefined) return 'invalid'
  // RFC 6749 §6: the refresh token must have been issued to the authenticated client.
  if (presented.client_id !== input.client_id) return 'invalid'
  if (grant.revoked_at !== undefined || (grant.expires_at !== undefined && grant.expires_at <= now)) {
    return 'invalid'
  }
  if (presented.revoked_at !== undefined || presented.expires_at <= now) return 'invalid'
  if (presented.rotated_at === undefined) return 'rotate'
  const successorLive =
    successor !== undefined &&
    successor.rotated_at === undefined &&
    successor.revoked_at === undefined &&
    successor.expires_at > now
  return now - presented.rotated_at <= graceMs && successorLive ? 'grace' : 'reuse'
}
