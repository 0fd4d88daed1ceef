/**
 * Client metadata (RFC 7591), client information, and Client ID Metadata Documents (CIMD): the
 * document types and their validators. Errors are OAuth wire errors, so a registration endpoint
 * or an authorization endpoint can answer them as they are.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2)
 * @see [OAuth Client ID Metadata Document, draft 00](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00)
 * @see [MCP Authorization: Client ID Metadata Documents](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents)
 * @module
 */

import { z } from 'zod'
import { OAuthError, ProtocolError } from './errors.js'
import {
  firstBadUrlField,
  hasDotSegment,
  isJsonObject,
  optionalMembers,
  parseJsonObject,
  stringArray,
} from './metadata-fields.js'
import { validateRedirectUri } from './redirect-uri.js'
import { hasControlOrSpace, hasOnlyUriCharacters, splitUri } from './uri-components.js'

/**
 * Token endpoint authentication methods a client may register.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2) `token_endpoint_auth_method`
 * @see [RFC 7523 §2.2](https://www.rfc-editor.org/rfc/rfc7523#section-2.2) `private_key_jwt`
 */
export type TokenEndpointAuthMethod =
  | 'none'
  | 'client_secret_basic'
  | 'client_secret_post'
  | 'private_key_jwt'

/**
 * Client metadata as registered (RFC 7591) or published (CIMD). Members this library does not
 * know, including language-tagged ones (`client_name#ja`), are kept as they came.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2)
 * @see [OIDC Dynamic Client Registration §2](https://openid.net/specs/openid-connect-registration-1_0.html#ClientMetadata) `application_type`
 */
export interface ClientMetadata {
  redirect_uris?: string[]
  /** Absent means `client_secret_basic` for RFC 7591 registration. */
  token_endpoint_auth_method?: TokenEndpointAuthMethod
  /** Absent means `["authorization_code"]`. */
  grant_types?: string[]
  /** Absent means `["code"]`. */
  response_types?: string[]
  client_name?: string
  client_uri?: string
  logo_uri?: string
  /** Space-separated scope values. */
  scope?: string
  contacts?: string[]
  tos_uri?: string
  policy_uri?: string
  jwks_uri?: string
  /** A JWK Set (RFC 7517 §5). Never together with `jwks_uri`. */
  jwks?: { keys: Array<{ kty: string; [member: string]: unknown }>; [member: string]: unknown }
  software_id?: string
  software_version?: string
  /** OIDC Registration; `web` when absent there. */
  application_type?: 'native' | 'web'
  [member: string]: unknown
}

/**
 * What a client knows after registration: its identifier, its secret if it has one, and its
 * registered metadata.
 *
 * @see [RFC 7591 §3.2.1](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.1)
 */
export interface ClientInformation extends ClientMetadata {
  client_id: string
  client_secret?: string
  /** Seconds since the epoch. */
  client_id_issued_at?: number
  /** Seconds since the epoch; 0 means the secret does not expire. */
  client_secret_expires_at?: number
}

const TOKEN_ENDPOINT_AUTH_METHODS = [
  'none',
  'client_secret_basic',
  'client_secret_post',
  'private_key_jwt',
] as const

// Links shown to users or fetched by the server: only http(s), never `javascript:` or `file:`.
const URL_MEMBERS = ['client_uri', 'logo_uri', 'tos_uri', 'policy_uri', 'jwks_uri'] as const

const schema = z.looseObject({
  ...optionalMembers(URL_MEMBERS, z.string()),
  ...optionalMembers(['redirect_uris', 'grant_types', 'response_types', 'contacts'], stringArray),
  ...optionalMembers(
    ['token_endpoint_auth_method', 'client_name', 'scope', 'software_id', 'software_version'],
    z.string(),
  ),
  jwks: z.looseObject({ keys: z.array(z.looseObject({ kty: z.string() })) }).optional(),
  application_type: z.enum(['native', 'web']).optional(),
})

function invalidMetadata(description: string, detail?: string): OAuthError {
  return new OAuthError('invalid_client_metadata', description, detail === undefined ? {} : { detail })
}

/**
 * Checks client metadata (a registration request body, or the metadata part of a CIMD) and
 * returns it typed. Shape only: what the server is willing to register (which grant types,
 * which scopes) is its own policy.
 *
 * - The document is a JSON object; the members of RFC 7591 §2 have their types; unknown members
 *   are kept (RFC 7591 §2: the server MUST ignore metadata it does not understand), and so are
 *   unknown values inside `grant_types` and `response_types`.
 * - `token_endpoint_auth_method` is one of `none`, `client_secret_basic`, `client_secret_post`,
 *   `private_key_jwt`; `private_key_jwt` needs `jwks` or `jwks_uri` to verify assertions with.
 * - `jwks` and `jwks_uri` are not both present (RFC 7591 §2 MUST NOT).
 * - `grant_types` and `response_types` are consistent (RFC 7591 §2.1): `authorization_code` if
 *   and only if `code`, `implicit` if and only if `token`, with the RFC defaults applied to an
 *   absent member.
 * - `redirect_uris` is a non-empty array when the authorization code grant is registered, and
 *   every entry passes {@link validateRedirectUri} for the `application_type`.
 * - `client_uri`, `logo_uri`, `tos_uri`, `policy_uri`, `jwks_uri` are `http(s)` URLs.
 *
 * Descriptions name the member, never its value, so they can go on the wire as they are.
 *
 * @throws {OAuthError} `invalid_client_metadata`, or `invalid_redirect_uri` for a bad redirect URI
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2)
 * @see [RFC 7591 §2.1](https://www.rfc-editor.org/rfc/rfc7591#section-2.1) grant types and response types
 * @see [RFC 7591 §3.2.2](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2) error responses
 */
export function validateClientMetadata(json: unknown): ClientMetadata {
  const doc = parseJsonObject(schema, json, (detail) =>
    invalidMetadata(`invalid client metadata: ${detail}`, detail),
  )

  const method = doc.token_endpoint_auth_method
  if (method !== undefined && !(TOKEN_ENDPOINT_AUTH_METHODS as readonly string[]).includes(method)) {
    throw invalidMetadata('token_endpoint_auth_method is not supported')
  }
  // RFC 7591 §2: "The jwks_uri and jwks parameters MUST NOT both be present in the same request
  // or response."
  if (doc.jwks !== undefined && doc.jwks_uri !== undefined) {
    throw invalidMetadata('jwks and jwks_uri must not both be present')
  }
  if (method === 'private_key_jwt' && doc.jwks === undefined && doc.jwks_uri === undefined) {
    throw invalidMetadata('private_key_jwt requires jwks or jwks_uri')
  }

  // RFC 7591 §2 defaults, then the §2.1 correspondence between grant and response types.
  const grantTypes = doc.grant_types ?? ['authorization_code']
  const responseTypes = doc.response_types ?? ['code']
  if (grantTypes.includes('authorization_code') !== responseTypes.includes('code')) {
    throw invalidMetadata(
      'grant_types authorization_code and response_types code must be registered together',
    )
  }
  if (grantTypes.includes('implicit') !== responseTypes.includes('token')) {
    throw invalidMetadata('grant_types implicit and response_types token must be registered together')
  }

  const badUrl = firstBadUrlField(doc, URL_MEMBERS)
  if (badUrl !== undefined)
    throw invalidMetadata(`${badUrl.field} must be an http or https URL`, badUrl.reason)

  // Redirect-based grants need a redirect URI to send the user back to (RFC 7591 §2).
  if (grantTypes.includes('authorization_code') && (doc.redirect_uris?.length ?? 0) === 0) {
    throw new OAuthError('invalid_redirect_uri', 'redirect_uris is required for the authorization_code grant')
  }
  const redirectOptions = doc.application_type === undefined ? {} : { applicationType: doc.application_type }
  for (const [index, uri] of (doc.redirect_uris ?? []).entries()) {
    try {
      validateRedirectUri(uri, redirectOptions)
    } catch (error) {
      if (!(error instanceof ProtocolError)) throw error
      throw new OAuthError(
        'invalid_redirect_uri',
        `redirect_uris[${index}] is not an acceptable redirect URI`,
        {
          cause: error,
          ...(error.detail === undefined ? {} : { detail: error.detail }),
        },
      )
    }
  }
  return doc as ClientMetadata
}

/**
 * Whether `clientId` has the form of a Client ID Metadata Document URL: `https`, a host, a path
 * other than `/`, no `.` or `..` segment (also percent-encoded), no fragment, no userinfo. A
 * query is only discouraged by the draft (SHOULD NOT); it is refused here so that one document
 * cannot hide behind several identifiers. A port is allowed. Never throws.
 *
 * @see [CIMD draft 00 §3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-3)
 * @see [MCP Authorization: Client ID Metadata Documents](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents) https with a path component
 */
export function isClientIdMetadataDocumentUrl(clientId: string): boolean {
  if (typeof clientId !== 'string' || clientId.length === 0) return false
  if (hasControlOrSpace(clientId) || clientId.includes('\\') || !hasOnlyUriCharacters(clientId)) return false
  const parts = splitUri(clientId)
  // The client_id is compared as a string (CIMD §4.1); the scheme is required in lower case so
  // that `HTTPS://...` is not a second identifier for the same document.
  if (parts.scheme !== 'https') return false
  if (parts.authority === undefined || parts.authority.length === 0 || parts.authority.includes('@'))
    return false
  if (parts.fragment !== undefined || parts.query !== undefined) return false
  if (parts.path === '' || parts.path === '/') return false
  if (hasDotSegment(parts.path)) return false
  try {
    const url = new URL(clientId)
    return url.protocol === 'https:' && url.hostname !== '' && url.username === '' && url.password === ''
  } catch {
    return false
  }
}

// CIMD §4.1: no symmetric-secret method, because a published document cannot carry a secret.
const SHARED_SECRET_METHODS: ReadonlySet<string> = new Set([
  'client_secret_post',
  'client_secret_basic',
  'client_secret_jwt',
])

function invalidClient(description: string, options: { detail?: string; cause?: unknown } = {}): OAuthError {
  return new OAuthError('invalid_client', description, {
    ...(options.detail === undefined ? {} : { detail: options.detail }),
    ...(options.cause === undefined ? {} : { cause: options.cause }),
  })
}

/**
 * Checks a Client ID Metadata Document fetched from `options.url` and returns it typed.
 *
 * - `options.url` has the form of a CIMD URL ({@link isClientIdMetadataDocumentUrl}).
 * - `client_id` equals `options.url` by simple string comparison (CIMD §4.1, MCP MUST).
 * - `client_name` and `redirect_uris` are present (MCP MUST).
 * - `token_endpoint_auth_method` is not a shared-secret method (`client_secret_basic`,
 *   `client_secret_post`, `client_secret_jwt`), and `client_secret` and
 *   `client_secret_expires_at` do not appear (CIMD §4.1 MUST NOT).
 * - Everything {@link validateClientMetadata} checks.
 *
 * An absent `token_endpoint_auth_method` is returned as `none`: a published document cannot
 * hold a secret, so the RFC 7591 default `client_secret_basic` cannot apply. Unknown members
 * are kept (CIMD §4.1: the document MAY define additional properties).
 *
 * @throws {OAuthError} `invalid_client`, with a description naming the rule, never the value
 * @see [CIMD draft 00 §4.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-4.1)
 * @see [MCP Authorization: Client ID Metadata Documents](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents)
 */
export function validateClientIdMetadataDocument(
  json: unknown,
  options: { url: string },
): ClientMetadata & { client_id: string } {
  if (!isClientIdMetadataDocumentUrl(options.url)) {
    throw invalidClient('client_id is not a valid client metadata document URL')
  }
  if (!isJsonObject(json)) throw invalidClient('client metadata document must be a JSON object')
  // CIMD §4.1 / MCP: the client_id property MUST match the document URL (simple string
  // comparison, RFC 3986 §6.2.1).
  if (json['client_id'] !== options.url) {
    throw invalidClient('client metadata document client_id does not match its URL')
  }
  // MCP: client_id, client_name and redirect_uris MUST be present.
  if (typeof json['client_name'] !== 'string' || json['client_name'] === '')
    throw invalidClient('client metadata document lacks client_name')
  const redirectUris = json['redirect_uris']
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) {
    throw invalidClient('client metadata document lacks redirect_uris')
  }
  // CIMD §4.1: shared secrets MUST NOT be used, and their members MUST NOT appear.
  if (Object.hasOwn(json, 'client_secret') || Object.hasOwn(json, 'client_secret_expires_at')) {
    throw invalidClient('client metadata document must not contain a client secret')
  }
  const method = json['token_endpoint_auth_method']
  if (typeof method === 'string' && SHARED_SECRET_METHODS.has(method)) {
    throw invalidClient('client metadata document must not use a shared-secret authentication method')
  }

  let metadata: ClientMetadata
  try {
    metadata = validateClientMetadata(json)
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error
    throw invalidClient(error.description ?? 'invalid client metadata document', {
      cause: error,
      ...(error.detail === undefined ? {} : { detail: error.detail }),
    })
  }
  return {
    ...metadata,
    client_id: options.url,
    token_endpoint_auth_method: metadata.token_endpoint_auth_method ?? 'none',
  }
}
