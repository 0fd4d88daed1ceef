/**
 * Turning validated client metadata into the {@link Client} the endpoints use, and the rules every
 * registration path shares (supported grant types, confidential methods).
 *
 * @module
 */
import {
  type ClientMetadata,
  type TokenEndpointAuthMethod,
  validateClientMetadata,
} from '../../protocol/client-metadata.js'
import { OAuthError } from '../../protocol/errors.js'
import type { ClientRecord, JsonObject } from '../../storage/types.js'
import type { Client } from '../context.js'

/** The ID-JAG grant type (RFC 7523 §2.1). */
export const JWT_BEARER_GRANT = 'urn:ietf:params:oauth:grant-type:jwt-bearer'

/** Grant types this server implements. */
export const SUPPORTED_GRANT_TYPES: readonly string[] = [
  'authorization_code',
  'refresh_token',
  'client_credentials',
  JWT_BEARER_GRANT,
]

/** Methods that prove possession of a secret or a key. */
export function isConfidential(method: TokenEndpointAuthMethod): boolean {
  return method !== 'none'
}

/**
 * Validates registration metadata with the protocol rules plus this server's: supported grant types
 * only, `client_credentials` only for confidential clients. `response_types` defaults to what the
 * grant types need (RFC 7591 §2.1 lets the server fill in a consistent value).
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2)
 */
export function validateRegistrationMetadata(
  json: Record<string, unknown>,
  defaultMethod: TokenEndpointAuthMethod,
): ClientMetadata & { token_endpoint_auth_method: TokenEndpointAuthMethod; grant_types: string[] } {
  const input = { ...json }
  const grantTypes = Array.isArray(input['grant_types']) ? (input['grant_types'] as unknown[]) : undefined
  if (
    input['response_types'] === undefined &&
    grantTypes !== undefined &&
    !grantTypes.includes('authorization_code')
  ) {
    input['response_types'] = []
  }
  const metadata = validateClientMetadata(input)
  const method = metadata.token_endpoint_auth_method ?? defaultMethod
  const grants = metadata.grant_types ?? ['authorization_code']
  for (const g of grants) {
    if (!SUPPORTED_GRANT_TYPES.includes(g)) {
      throw new OAuthError('invalid_client_metadata', 'grant_types contains an unsupported grant type')
    }
  }
  for (const r of metadata.response_types ?? ['code']) {
    if (r !== 'code')
      throw new OAuthError('invalid_client_metadata', 'only the code response type is supported')
  }
  if (grants.includes('client_credentials') && !isConfidential(method)) {
    throw new OAuthError('invalid_client_metadata', 'client_credentials requires a confidential client')
  }
  return { ...metadata, token_endpoint_auth_method: method, grant_types: grants }
}

/** The endpoint view of a stored or configured client. */
export function toClient(
  kind: Client['kind'],
  clientId: string,
  metadata: ClientMetadata,
  secretHash?: string,
  record?: ClientRecord,
): Client {
  const client: Client = {
    client_id: clientId,
    kind,
    metadata,
    authMethod: metadata.token_endpoint_auth_method ?? 'client_secret_basic',
    grantTypes: metadata.grant_types ?? ['authorization_code'],
  }
  if (secretHash !== undefined) client.secretHash = secretHash
  if (record !== undefined) client.record = record
  return client
}

/** The endpoint view of a store record. */
export function clientFromRecord(record: ClientRecord): Client {
  return toClient(
    record.kind,
    record.client_id,
    record.metadata as ClientMetadata,
    record.secret_hash,
    record,
  )
}

/** Metadata as the store keeps it (JSON only). */
export function metadataToJson(metadata: ClientMetadata): JsonObject {
  return JSON.parse(JSON.stringify(metadata)) as JsonObject
}
