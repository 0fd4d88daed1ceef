/**
 * The authorization transaction: the validated request, kept server-side behind an opaque id while
 * the user logs in and consents. The browser carries only the id and a CSRF token (anchors S8).
 *
 * @module
 */
import type { JsonObject } from '../storage/types.js'

/** A pending authorization, as stored. */
export interface AuthorizationTransaction {
  client_id: string
  redirect_uri: string
  state?: string
  code_challenge: string
  /** The configured resource identifier. */
  resource: string
  scopes: string[]
  /** `upstream`: approved, waiting for the upstream provider's callback (proxy). */
  stage: 'login' | 'consent' | 'upstream'
  subject?: string
  name?: string
  auth_time?: number
  attempts: number
  /** Upstream login: remember the consent once the user is known. */
  remember?: boolean
  /** Upstream login through remembered consent: the user it was remembered for. */
  remembered_subject?: string
}

/** The JSON the store keeps. */
export function transactionToJson(tx: AuthorizationTransaction): JsonObject {
  return JSON.parse(JSON.stringify(tx)) as JsonObject
}

/** Reads a stored transaction back; `undefined` when the shape is not one this server wrote. */
export function transactionFromJson(data: JsonObject | undefined): AuthorizationTransaction | undefined {
  if (data === undefined) return undefined
  const str = (v: unknown): v is string => typeof v === 'string'
  if (
    !str(data['client_id']) ||
    !str(data['redirect_uri']) ||
    !str(data['code_challenge']) ||
    !str(data['resource']) ||
    !Array.isArray(data['scopes']) ||
    !data['scopes'].every(str) ||
    (data['stage'] !== 'login' && data['stage'] !== 'consent' && data['stage'] !== 'upstream')
  ) {
    return undefined
  }
  const tx: AuthorizationTransaction = {
    client_id: data['client_id'],
    redirect_uri: data['redirect_uri'],
    code_challenge: data['code_challenge'],
    resource: data['resource'],
    scopes: data['scopes'] as string[],
    stage: data['stage'],
    attempts: typeof data['attempts'] === 'number' ? data['attempts'] : 0,
  }
  if (str(data['state'])) tx.state = data['state']
  if (str(data['subject'])) tx.subject = data['subject']
  if (str(data['name'])) tx.name = data['name']
  if (typeof data['auth_time'] === 'number') tx.auth_time = data['auth_time']
  if (data['remember'] === true) tx.remember = true
  if (str(data['remembered_subject'])) tx.remembered_subject = data['remembered_subject']
  return tx
}
