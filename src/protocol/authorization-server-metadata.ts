/**
 * OAuth 2.0 Authorization Server Metadata (RFC 8414) and the OpenID Connect Discovery members
 * Portcullis uses: the document type, its validator (with the `issuer` echo rule and the MCP
 * PKCE rule), and the transport policy for endpoint URLs.
 *
 * @see [RFC 8414](https://www.rfc-editor.org/rfc/rfc8414)
 * @see [OpenID Connect Discovery 1.0 §3](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata)
 * @see [MCP Authorization: Authorization Server Metadata Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery)
 * @module
 */

import { z } from 'zod'
import { ProtocolError } from './errors.js'
import {
  firstBadUrlField,
  isJsonObject,
  optionalMembers,
  parseHttpUrl,
  parseJsonObject,
  stringArray,
  truncateForDetail,
  urlProblem,
} from './metadata-fields.js'
import { isLoopbackHost } from './resource.js'

/**
 * Authorization Server Metadata. Members this library does not know are kept as they came.
 *
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414#section-2)
 * @see [OpenID Connect Discovery 1.0 §3](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata)
 */
export interface AuthorizationServerMetadata {
  /** The issuer identifier (REQUIRED); identical to the one the document was fetched for. */
  issuer: string
  authorization_endpoint?: string
  token_endpoint?: string
  jwks_uri?: string
  /** RFC 7591 client registration endpoint. */
  registration_endpoint?: string
  scopes_supported?: string[]
  /** REQUIRED by RFC 8414; contains `code` once validated. */
  response_types_supported: string[]
  response_modes_supported?: string[]
  /** Absent means `["authorization_code", "implicit"]` (RFC 8414 §2). */
  grant_types_supported?: string[]
  /** Absent means `["client_secret_basic"]` (RFC 8414 §2). */
  token_endpoint_auth_methods_supported?: string[]
  /** Never contains `none`. */
  token_endpoint_auth_signing_alg_values_supported?: string[]
  service_documentation?: string
  ui_locales_supported?: string[]
  op_policy_uri?: string
  op_tos_uri?: string
  /** RFC 7009 token revocation endpoint. */
  revocation_endpoint?: string
  revocation_endpoint_auth_methods_supported?: string[]
  revocation_endpoint_auth_signing_alg_values_supported?: string[]
  /** RFC 7662 token introspection endpoint. */
  introspection_endpoint?: string
  introspection_endpoint_auth_methods_supported?: string[]
  introspection_endpoint_auth_signing_alg_values_supported?: string[]
  /** PKCE methods (RFC 7636). Absent means no PKCE support; validated to contain `S256` by default. */
  code_challenge_methods_supported?: string[]
  /** RFC 9207: the authorization response carries `iss`. */
  authorization_response_iss_parameter_supported?: boolean
  /** Client ID Metadata Documents are accepted as `client_id` (CIMD §5). */
  client_id_metadata_document_supported?: boolean
  /** Authorization grant profiles (ID-JAG and similar extensions). */
  authorization_grant_profiles_supported?: string[]
  /** JWS `alg` values accepted for DPoP proofs (RFC 9449 §5.1). */
  dpop_signing_alg_values_supported?: string[]
  /** RFC 9126 pushed authorization request endpoint. */
  pushed_authorization_request_endpoint?: string
  require_pushed_authorization_requests?: boolean
  /** OIDC Discovery. */
  userinfo_endpoint?: string
  /** OIDC Discovery. */
  subject_types_supported?: string[]
  /** OIDC Discovery. */
  id_token_signing_alg_values_supported?: string[]
  /** OIDC RP-Initiated Logout. */
  end_session_endpoint?: string
  [member: string]: unknown
}

/** Options of {@link validateAuthorizationServerMetadata}. */
export interface ValidateAuthorizationServerMetadataOptions {
  /** The issuer identifier the well-known URL was built from, exactly as it was obtained. */
  expectedIssuer: string
  /** Require `code_challenge_methods_supported` to exist and contain `S256` (MCP). Default true. */
  requireS256?: boolean
}

/** Options of {@link assertSecureEndpoint}. */
export interface SecureEndpointOptions {
  /** Accept `http:` on a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`). Default false. */
  allowHttpLoopback?: boolean
  /** Accept `http:` on any host. Default false. For tests and closed networks only. */
  allowHttp?: boolean
}

// Members that are fetched, posted to, or opened in a browser. Only http(s) is acceptable:
// `javascript:`, `file:` or a custom scheme here is an attack on whoever follows it (anchors S1, S22).
const URL_MEMBERS = [
  'authorization_endpoint',
  'token_endpoint',
  'jwks_uri',
  'registration_endpoint',
  'service_documentation',
  'op_policy_uri',
  'op_tos_uri',
  'revocation_endpoint',
  'introspection_endpoint',
  'pushed_authorization_request_endpoint',
  'userinfo_endpoint',
  'end_session_endpoint',
] as const

const LIST_MEMBERS = [
  'scopes_supported',
  'response_modes_supported',
  'grant_types_supported',
  'token_endpoint_auth_methods_supported',
  'token_endpoint_auth_signing_alg_values_supported',
  'ui_locales_supported',
  'revocation_endpoint_auth_methods_supported',
  'revocation_endpoint_auth_signing_alg_values_supported',
  'introspection_endpoint_auth_methods_supported',
  'introspection_endpoint_auth_signing_alg_values_supported',
  'code_challenge_methods_supported',
  'authorization_grant_profiles_supported',
  'dpop_signing_alg_values_supported',
  'subject_types_supported',
  'id_token_signing_alg_values_supported',
] as const

const FLAG_MEMBERS = [
  'authorization_response_iss_parameter_supported',
  'client_id_metadata_document_supported',
  'require_pushed_authorization_requests',
] as const

const schema = z.looseObject({
  issuer: z.string(),
  response_types_supported: stringArray,
  ...optionalMembers(URL_MEMBERS, z.string()),
  ...optionalMembers(LIST_MEMBERS, stringArray),
  ...optionalMembers(FLAG_MEMBERS, z.boolean()),
})

// RFC 8414 §2: for each of these lists, "The value none MUST NOT be used."
const SIGNING_ALG_MEMBERS = [
  'token_endpoint_auth_signing_alg_values_supported',
  'revocation_endpoint_auth_signing_alg_values_supported',
  'introspection_endpoint_auth_signing_alg_values_supported',
] as const

function invalid(detail: string): ProtocolError {
  return new ProtocolError('ERR_INVALID_METADATA', 'invalid authorization server metadata', { detail })
}

/**
 * Checks an Authorization Server Metadata document (RFC 8414 or OpenID Connect Discovery) and
 * returns it typed.
 *
 * - `issuer` is identical to `expectedIssuer`: a plain string comparison with no normalisation,
 *   so `https://as.example.com/` and `https://as.example.com` differ. A document served at an
 *   attacker's URL that claims an honest issuer is refused. Checked first.
 * - The members have their types; unknown members and unknown values inside arrays are kept.
 * - `issuer` is an `http(s)` URL without query or fragment (RFC 8414 §2).
 * - `response_types_supported` contains `code` (OAuth 2.1 authorization code flow).
 * - Every endpoint and link (`authorization_endpoint`, `token_endpoint`, `jwks_uri`, ...) is an
 *   absolute `http(s)` URL without fragment or userinfo. `javascript:`, `file:` and every other
 *   scheme are refused. Whether plain `http` is acceptable is the caller's policy: see
 *   {@link assertSecureEndpoint}.
 * - No `*_signing_alg_values_supported` list for endpoint authentication contains `none`.
 * - Unless `requireS256` is false, `code_challenge_methods_supported` exists and contains
 *   `S256`: an absent list means the server does not support PKCE, and an MCP client MUST
 *   refuse to proceed.
 *
 * @throws {ProtocolError} `ERR_ISSUER_MISMATCH`, `ERR_INVALID_METADATA`, `ERR_PKCE`
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414#section-2) metadata members
 * @see [RFC 8414 §3.3](https://www.rfc-editor.org/rfc/rfc8414#section-3.3) the `issuer` MUST be identical
 * @see [OpenID Connect Discovery 1.0 §4.3](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfigurationValidation)
 * @see [MCP Authorization: Authorization Code Protection](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-code-protection) refuse without PKCE support
 */
export function validateAuthorizationServerMetadata(
  json: unknown,
  options: ValidateAuthorizationServerMetadataOptions,
): AuthorizationServerMetadata {
  if (!isJsonObject(json)) throw invalid('not a JSON object')
  const issuer = json['issuer']
  if (typeof issuer !== 'string') throw invalid('issuer: missing or not a string')
  // RFC 8414 §3.3 / OIDC Discovery §4.3: the issuer MUST be identical to the one used to build
  // the metadata URL; if not, the metadata MUST NOT be used.
  if (issuer !== options.expectedIssuer) {
    throw new ProtocolError('ERR_ISSUER_MISMATCH', 'authorization server metadata names another issuer', {
      detail: `expected ${truncateForDetail(options.expectedIssuer)}, document names ${truncateForDetail(issuer)}`,
    })
  }

  const doc = parseJsonObject(schema, json, invalid)
  const issuerProblem = urlProblem(doc.issuer, { allowQuery: false })
  if (issuerProblem !== undefined) throw invalid(`issuer: ${issuerProblem}`)

  if (!doc.response_types_supported.includes('code')) {
    throw invalid('response_types_supported: does not contain code')
  }

  const badUrl = firstBadUrlField(doc, URL_MEMBERS)
  if (badUrl !== undefined) throw invalid(`${badUrl.field}: ${badUrl.reason}`)

  for (const member of SIGNING_ALG_MEMBERS) {
    if (doc[member]?.includes('none')) throw invalid(`${member}: none is not allowed`)
  }

  // MCP (C-47, C-48): without `code_challenge_methods_supported` the server does not support
  // PKCE (RFC 8414 §2) and the client MUST refuse; S256 is the method clients use.
  if (options.requireS256 !== false && !doc.code_challenge_methods_supported?.includes('S256')) {
    throw new ProtocolError('ERR_PKCE', 'authorization server does not advertise PKCE S256', {
      detail:
        doc.code_challenge_methods_supported === undefined
          ? 'code_challenge_methods_supported is absent'
          : 'code_challenge_methods_supported does not contain S256',
    })
  }
  return doc as AuthorizationServerMetadata
}

/**
 * Refuses an endpoint URL that would be reached without TLS. `https:` is always accepted;
 * `http:` only on a loopback host with `allowHttpLoopback`, or anywhere with `allowHttp`. Any
 * other scheme, userinfo, a fragment or a malformed URL is refused.
 *
 * Credentials (codes, refresh tokens, client secrets) must only travel over TLS; loopback is
 * the local-development exception.
 *
 * @throws {ProtocolError} `ERR_INVALID_URL`
 * @see [OAuth 2.1 §1.5](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-1.5) communication security
 * @see [MCP Authorization: Communication Security](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#communication-security) endpoints MUST be served over HTTPS
 */
export function assertSecureEndpoint(url: string, options: SecureEndpointOptions = {}): void {
  const parsed = parseHttpUrl(url)
  if (parsed.scheme === 'https') return
  if (options.allowHttp === true) return
  if (options.allowHttpLoopback === true && isLoopbackHost(parsed.url.hostname)) return
  throw new ProtocolError('ERR_INVALID_URL', 'endpoint must use https', {
    detail:
      options.allowHttpLoopback === true ? 'http is allowed only on loopback hosts' : 'http is not allowed',
  })
}
