/**
 * The parts of refresh-token rotation every store shares: checking the input, sealing the
 * successor so that only a holder of the presented token can read it (`successor-envelope.ts`),
 * and the decision table. Each store runs {@link decideRotation} inside its own atomic step.
 *
 * @see [OAuth 2.1 §4.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3.1)
 * @see [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2)
 * @module
 */

import { sha256 } from '../protocol/random.js'
import { decrypt, recordAad, tokenDerivedKey } from './crypto.js'
import { StorageError } from './errors.js'
import { openSuccessorV2, sealSuccessorV2, successorCiphertext } from './successor-envelope.js'
import type { GrantRecord, RefreshRotation, RefreshRotationInput, RefreshTokenRecord } from './types.js'

/** Default grace window for duplicate presentations of a just-rotated refresh token. */
export const DEFAULT_REFRESH_GRACE_MS = 10_000

/**
 * The cryptography of a rotation: the hash check and the successor's envelope. Implementations
 * must produce and read the same envelopes (see `successor-envelope.ts`), so a store written
 * through one can be read through another.
 */
export interface RotationCrypto {
  /** SHA-256 of the UTF-8 text, base64url without padding. */
  sha256(text: string): string | Promise<string>
  /** Seals `plaintext` so that only a holder of `token` can open it, bound to `aad`. */
  seal(token: string, plaintext: string, aad: string): string | Promise<string>
  /**
   * Opens an envelope of {@link seal} (or of an earlier release). A version 2 envelope carries no
   * tag: a wrong token or `aad` yields other bytes, which the caller refuses by their hash.
   * Throws `StorageError` `ERR_STORAGE_DECRYPT` on a malformed or unknown envelope.
   */
  open(token: string, envelope: string, aad: string): string | Promise<string>
}

/** The portable implementation: Web Crypto. */
export const webRotationCrypto: RotationCrypto = {
  sha256,
  seal: sealSuccessorV2,
  async open(token, envelope, aad) {
    const ciphertext = successorCiphertext(envelope)
    if (ciphertext !== undefined) return openSuccessorV2(token, ciphertext, aad)
    return decrypt(await tokenDerivedKey(token), envelope, aad)
  },
}

function successorAad(input: RefreshRotationInput): string {
  return recordAad('refresh_successor', input.presentedHash)
}

/**
 * Checks that the hashes given are the hashes of the tokens given, and seals the successor token
 * so that only a holder of the presented token can open it. Runs before the atomic step.
 */
export async function sealSuccessor(
  input: RefreshRotationInput,
  c: RotationCrypto = webRotationCrypto,
): Promise<string> {
  const [presented, successor] = await Promise.all([
    c.sha256(input.presentedToken),
    c.sha256(input.successor.token),
  ])
  // Both sides of each comparison come from the same caller: nothing secret to time.
  if (presented !== input.presentedHash || successor !== input.successor.hash) {
    throw new StorageError('ERR_STORAGE_INVALID_ARGUMENT', 'a refresh token hash does not match its token')
  }
  return c.seal(input.presentedToken, input.successor.token, successorAad(input))
}

/**
 * Opens a successor sealed by {@link sealSuccessor}, and accepts it only if it hashes to
 * `successorHash`, the hash recorded with it: the check that makes a wrong token or a tampered
 * row fail.
 */
export async function openSuccessor(
  input: RefreshRotationInput,
  sealed: string,
  successorHash: string,
  c: RotationCrypto = webRotationCrypto,
): Promise<string> {
  const token = await c.open(input.presentedToken, sealed, successorAad(input))
  if ((await c.sha256(token)) !== successorHash) {
    throw new StorageError('ERR_STORAGE_DECRYPT', 'ciphertext failed authentication')
  }
  return token
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

/** What a store does with a presentation. `refuse_*`: a precondition failed; nothing changes. */
export type RotationDecision = 'invalid' | 'rotate' | 'grace' | 'reuse' | 'refuse_resource' | 'refuse_scope'

/** The outcome of a refusing decision. */
export function refusal(
  decision: RotationDecision,
): { status: 'refused'; reason: 'resource' | 'scope' } | undefined {
  if (decision === 'refuse_resource') return { status: 'refused', reason: 'resource' }
  if (decision === 'refuse_scope') return { status: 'refused', reason: 'scope' }
  return undefined
}

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
  const expected = input.expect
  if (expected?.resource !== undefined && expected.resource !== presented.resource) return 'refuse_resource'
  if (expected?.scopes !== undefined && !expected.scopes.every((s) => presented.scopes.includes(s))) {
    return 'refuse_scope'
  }
  if (presented.rotated_at === undefined) return 'rotate'
  const successorLive =
    successor !== undefined &&
    successor.rotated_at === undefined &&
    successor.revoked_at === undefined &&
    successor.expires_at > now
  return now - presented.rotated_at <= graceMs && successorLive ? 'grace' : 'reuse'
}

/** The presented token as its store row holds it: the record, and its successor once rotated. */
export interface PresentedRow {
  record: RefreshTokenRecord
  successor_hash?: string | undefined
  successor_ciphertext?: string | undefined
}

/**
 * What the atomic step does, planned from the rows it read. On `reuse_detected` the store revokes
 * the grant; on `rotated` it marks the presented token rotated (with the sealed successor) and
 * inserts `record` under `hash`; otherwise it changes nothing.
 */
export type RotationPlan =
  | Exclude<RefreshRotation, { status: 'rotated' | 'grace' }>
  | { status: 'rotated'; hash: string; record: RefreshTokenRecord }
  | { status: 'grace'; hash: string; sealed: string; record: RefreshTokenRecord }

/** Plans the atomic step of a rotation with {@link decideRotation}. */
export function planRotation(
  presented: PresentedRow | undefined,
  grant: GrantRecord | undefined,
  successor: RefreshTokenRecord | undefined,
  input: RefreshRotationInput,
  graceMs: number,
): RotationPlan {
  const decision = decideRotation(presented?.record, grant, successor, input, graceMs)
  if (decision === 'invalid' || presented === undefined) return { status: 'invalid' }
  const refused = refusal(decision)
  if (refused !== undefined) return refused
  if (decision === 'reuse') return { status: 'reuse_detected', grant_id: presented.record.grant_id }
  if (decision === 'grace') {
    // `grace` implies a live successor, so both of its columns are set.
    return {
      status: 'grace',
      hash: presented.successor_hash!,
      sealed: presented.successor_ciphertext!,
      record: successor!,
    }
  }
  return { status: 'rotated', hash: input.successor.hash, record: successorRecord(presented.record, input) }
}

/** The caller's answer for a carried-out plan: the new successor, or the sealed one opened. */
export async function settleRotation(
  plan: RotationPlan,
  input: RefreshRotationInput,
  c: RotationCrypto = webRotationCrypto,
): Promise<RefreshRotation> {
  switch (plan.status) {
    case 'rotated':
      return { ...plan, token: input.successor.token }
    case 'grace': {
      const { sealed, ...rest } = plan
      return { ...rest, token: await openSuccessor(input, sealed, plan.hash, c) }
    }
    default:
      return plan
  }
}
