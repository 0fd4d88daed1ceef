/**
 * OAuth 2.0 Protected Resource Metadata (RFC 9728): the document type, its validator, and the
 * rule that ties a document to the resource it was fetched for.
 *
 * @see [RFC 9728](https://www.rfc-editor.org/rfc/rfc9728)
 * @see [MCP Authorization: Authorization Server Location](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-location)
 * @module
 */

import { z } from 'zod'
import { ProtocolError } from './errors.js'
import * as fields from './metadata-fields.js'

/**
 * Protected Resource Metadata. Members this library does not know are kept as they came.
 *
 * @see [RFC 9728 §2](https://www.rfc-editor.org/rfc/rfc9728#section-2)
 */
export interface ProtectedResourceMetadata {
  /** The protected resource's resource identifier (REQUIRED). */
  resource: string
  /** Issuer identifiers of the authorization servers that can be used with this resource. */
  authorization_servers?: string[]
  /** URL of the resource's JWK Set, for signed responses and encrypted requests. */
  jwks_uri?: string
  /** Scope values used in authorization requests to access this resource. */
  scopes_supported?: string[]
  /** How a bearer token may be presented: `header`, `body`, `query`. `[]` means none. */
  bearer_methods_supported?: string[]
  /** JWS `alg` values the resource signs responses with (never `none`). */
  resource_signing_alg_values_supported?: string[]
  /** Human-readable name of the resource. */
  resource_name?: string
  /** URL of developer documentation for the resource. */
  resource_documentation?: string
  /** URL of the resource's policy on how client data is used. */
  resource_policy_uri?: string
  /** URL of the resource's terms of service. */
  resource_tos_uri?: string
  /** Whether the resource supports mutual-TLS certificate-bound access tokens (RFC 8705). */
  tls_client_certificate_bound_access_tokens?: boolean
  /** `type` values of `authorization_details` the resource supports (RFC 9396). */
  authorization_details_types_supported?: string[]
  /** JWS `alg` values accepted for DPoP proofs (RFC 9449). */
  dpop_signing_alg_values_supported?: string[]
  /** Whether the resource always requires DPoP-bound access tokens (RFC 9449). */
  dpop_bound_access_tokens_required?: boolean
  [member: string]: unknown
}

/** Options of {@link validateProtectedResourceMetadata}. */
export interface ValidateProtectedResourceMetadataOptions {
  /**
   * The resource identifier the metadata was fetched for: the identifier the well-known URL was
   * built from, or the URL the client was talking to when the `WWW-Authenticate` challenge gave
   * the metadata URL. When set, `resource` must be identical to it (RFC 9728 §3.3).
   */
  expectedResource?: string
  /** Require a non-empty `authorization_servers` (MCP). Default true. */
  requireAuthorizationServers?: boolean
}

// Values that are fetched or shown to users as links: only http(s), never `javascript:` or `file:`.
const URL_MEMBERS = ['jwks_uri', 'resource_documentation', 'resource_policy_uri', 'resource_tos_uri'] as const

const LIST_MEMBERS = [
  'authorization_servers',
  'scopes_supported',
  'bearer_methods_supported',
  'resource_signing_alg_values_supported',
  'authorization_details_types_supported',
  'dpop_signing_alg_values_supported',
] as const

const schema = z.looseObject({
  resource: z.string(),
  resource_name: z.string().optional(),
  ...fields.optionalMembers(URL_MEMBERS, z.string()),
  ...fields.optionalMembers(LIST_MEMBERS, fields.stringArray),
  ...fields.optionalMembers(
    ['tls_client_certificate_bound_access_tokens', 'dpop_bound_access_tokens_required'],
    z.boolean(),
  ),
})

function invalid(detail: string): ProtocolError {
  return new ProtocolError('ERR_INVALID_METADATA', 'invalid protected resource metadata', { detail })
}

/**
 * Checks a Protected Resource Metadata document and returns it typed.
 *
 * - The document is a JSON object; the members of RFC 9728 §2 have their types; unknown members
 *   are kept, and unknown values inside arrays (a new bearer method, say) are not an error.
 * - `resource` is an absolute `http(s)` URL without fragment or userinfo (RFC 9728 §1.2).
 * - `authorization_servers` is a non-empty array of issuer identifiers (absolute `http(s)` URLs,
 *   no query, no fragment) unless `requireAuthorizationServers` is false (MCP requires it).
 * - URL members (`jwks_uri`, `resource_documentation`, ...) are `http(s)` URLs.
 * - `resource_signing_alg_values_supported` does not contain `none` (RFC 9728 §2).
 * - With `expectedResource`, `resource` is identical to it: a plain string comparison, no
 *   normalisation (RFC 9728 §3.3). A document that fails this MUST NOT be used.
 *
 * @throws {ProtocolError} `ERR_INVALID_METADATA` for a malformed document,
 *   `ERR_RESOURCE_MISMATCH` when `resource` is not `expectedResource`
 * @see [RFC 9728 §2](https://www.rfc-editor.org/rfc/rfc9728#section-2) metadata members
 * @see [RFC 9728 §3.3](https://www.rfc-editor.org/rfc/rfc9728#section-3.3) protected resource metadata validation
 * @see [MCP Authorization: Authorization Server Location](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-location) `authorization_servers` MUST be present
 */
export function validateProtectedResourceMetadata(
  json: unknown,
  options: ValidateProtectedResourceMetadataOptions = {},
): ProtectedResourceMetadata {
  const doc = fields.parseJsonObject(schema, json, invalid)
  const resourceProblem = fields.urlProblem(doc.resource)
  if (resourceProblem !== undefined) throw invalid(`resource: ${resourceProblem}`)

  // MCP: the protected resource MUST name at least one authorization server.
  if (options.requireAuthorizationServers !== false && (doc.authorization_servers?.length ?? 0) === 0) {
    throw invalid('authorization_servers: missing or empty')
  }
  for (const [index, issuer] of (doc.authorization_servers ?? []).entries()) {
    // RFC 8414 §2: an issuer identifier has no query and no fragment.
    const problem = fields.urlProblem(issuer, { allowQuery: false })
    if (problem !== undefined) throw invalid(`authorization_servers[${index}]: ${problem}`)
  }

  const badUrl = fields.firstBadUrlField(doc, URL_MEMBERS)
  if (badUrl !== undefined) throw invalid(`${badUrl.field}: ${badUrl.reason}`)

  // RFC 9728 §2: "The value none MUST NOT be used."
  if (doc.resource_signing_alg_values_supported?.includes('none')) {
    throw invalid('resource_signing_alg_values_supported: none is not allowed')
  }

  // RFC 9728 §3.3: the `resource` value MUST be identical to the resource identifier the
  // metadata was requested for; otherwise the document MUST NOT be used.
  if (options.expectedResource !== undefined && doc.resource !== options.expectedResource) {
    throw new ProtocolError('ERR_RESOURCE_MISMATCH', 'protected resource metadata is for another resource', {
      detail: `expected ${fields.truncateForDetail(options.expectedResource)}, document names ${fields.truncateForDetail(doc.resource)}`,
    })
  }
  return doc as ProtectedResourceMetadata
}

/**
 * Whether Protected Resource Metadata naming `prmResource` may be used for the resource the
 * client asked about (`requested`). This is the client's policy for RFC 9728 §3.3:
 *
 * - `exact`: the strings are identical (the RFC rule).
 * - `same-origin-prefix`: identical, or the same origin (scheme, host and port, compared after
 *   parsing) with the metadata's path a whole-segment prefix of the requested path: `/mcp`
 *   covers `/mcp` and `/mcp/x` but not `/mcpx`; a root `resource` covers every path of its
 *   origin. A `resource` with a query must match exactly. Many deployments publish their origin
 *   or a parent path as `resource`; the request then uses the metadata's `resource`.
 *
 * A different origin never matches, and neither does a value that is not an acceptable URL.
 *
 * @see [RFC 9728 §3.3](https://www.rfc-editor.org/rfc/rfc9728#section-3.3)
 * @see [RFC 9728 §7.3](https://www.rfc-editor.org/rfc/rfc9728#section-7.3) impersonation attacks
 */
export function resourceMatchesForDiscovery(
  prmResource: string,
  requested: string,
  mode: 'exact' | 'same-origin-prefix',
): boolean {
  if (typeof prmResource !== 'string' || typeof requested !== 'string') return false
  if (mode === 'exact') return prmResource === requested
  if (mode !== 'same-origin-prefix') return false
  let prm: URL
  let req: URL
  try {
    const parsedPrm = fields.parseHttpUrl(prmResource)
    if (parsedPrm.query !== undefined) return prmResource === requested
    prm = parsedPrm.url
    req = fields.parseHttpUrl(requested).url
  } catch {
    return false
  }
  if (prmResource === requested) return true
  if (prm.origin !== req.origin) return false
  const base = prm.pathname.endsWith('/') ? prm.pathname.slice(0, -1) : prm.pathname
  return base === '' || req.pathname === base || req.pathname.startsWith(`${base}/`)
}
