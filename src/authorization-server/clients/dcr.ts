/**
 * Creating client registrations: RFC 7591 dynamic registration and the administrator's
 * `registerClient`. A secret is issued only to clients that authenticate with one, and kept only as
 * a hash; the answer contains this client's own credentials and nothing else.
 *
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1) client information response
 * @module
 */
import type { ClientInformation } from '../../protocol/client-metadata.js'
import { OAuthError } from '../../protocol/errors.js'
import { randomToken, sha256 } from '../../protocol/random.js'
import type { ClientRecord } from '../../storage/types.js'
import type { Sha256 } from '../digest.js'
import { metadataToJson, validateRegistrationMetadata } from './client-model.js'

// Members a registrant cannot choose: the server assigns them (RFC 7591 §3.2.1).
const SERVER_ASSIGNED = [
  'client_id',
  'client_secret',
  'client_id_issued_at',
  'client_secret_expires_at',
  'registration_access_token',
  'registration_client_uri',
] as const

/** Options of {@link createClientRegistration}. */
export interface CreateClientRegistrationOptions {
  kind: 'dynamic' | 'static'
  now: number
  /** Idle expiry from `now`, in milliseconds; omitted for registrations that never expire. */
  idleMs?: number
  /** Whether `jwks_uri` can be used (a fetch is configured). */
  allowJwksUri: boolean
  /** Administrator-chosen identifiers and secret (static registrations only). */
  clientId?: string
  clientSecret?: string
  /** How the secret is hashed for the store. Default: Web Crypto SHA-256. */
  hash?: Sha256
}

/**
 * Validates `json` as client metadata and returns the store record plus the client information
 * response. Throws `OAuthError` (`invalid_client_metadata`, `invalid_redirect_uri`).
 */
export async function createClientRegistration(
  json: unknown,
  options: CreateClientRegistrationOptions,
): Promise<{ record: ClientRecord; response: ClientInformation }> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new OAuthError('invalid_client_metadata', 'client metadata must be a JSON object')
  }
  const input: Record<string, unknown> = { ...(json as Record<string, unknown>) }
  for (const member of SERVER_ASSIGNED) delete input[member]
  // RFC 7591 §2: token_endpoint_auth_method defaults to client_secret_basic.
  const metadata = validateRegistrationMetadata(input, 'client_secret_basic')
  if (metadata.jwks_uri !== undefined && !options.allowJwksUri) {
    throw new OAuthError('invalid_client_metadata', 'jwks_uri is not supported here; register jwks instead')
  }
  const method = metadata.token_endpoint_auth_method
  const usesSecret = method === 'client_secret_basic' || method === 'client_secret_post'
  // Issued ids never start with `https://`, so they cannot be mistaken for a metadata document URL (CIMD-01).
  const clientId = options.clientId ?? randomToken(16)
  const secret = usesSecret ? (options.clientSecret ?? randomToken(32)) : undefined
  const record: ClientRecord = {
    client_id: clientId,
    kind: options.kind,
    metadata: metadataToJson(metadata),
    created_at: options.now,
  }
  if (secret !== undefined) record.secret_hash = await (options.hash ?? sha256)(secret)
  if (options.idleMs !== undefined) record.expires_at = options.now + options.idleMs
  const response: ClientInformation = {
    ...metadata,
    client_id: clientId,
    client_id_issued_at: Math.floor(options.now / 1000),
  }
  if (secret !== undefined) {
    response.client_secret = secret
    // RFC 7591 §3.2.1: 0 means the secret does not expire; the registration's idle expiry applies instead.
    response.client_secret_expires_at = 0
  }
  return { record, response }
}
