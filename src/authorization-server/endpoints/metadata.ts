/**
 * Authorization server metadata, served at the RFC 8414 well-known URL derived from the issuer and
 * at the OpenID Connect discovery paths (path insertion and appending), with `issuer` exactly as
 * configured.
 *
 * @see [RFC 8414 §2, §3](https://www.rfc-editor.org/rfc/rfc8414#section-3)
 * @see [OpenID Connect Discovery 1.0 §4](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)
 * @see [MCP Authorization Server Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery)
 * @module
 */
import type { AuthorizationServerMetadata } from '../../protocol/authorization-server-metadata.js'
import { authorizationServerMetadataUrls } from '../../protocol/well-known.js'
import { ASSERTION_ALGORITHMS } from '../clients/authenticate-client.js'
import { JWT_BEARER_GRANT } from '../clients/client-model.js'
import type { ServerContext } from '../context.js'
import { ID_JAG_PROFILE } from '../grants/jwt-bearer.js'
import { jsonResponse } from '../http.js'

const AUTH_METHODS = ['none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt']

/** The metadata document of this server. */
export function buildMetadata(ctx: ServerContext): AuthorizationServerMetadata {
  const scopes = new Set<string>()
  for (const r of ctx.resources) for (const s of r.scopes.keys()) scopes.add(s)
  const grantTypes = ['authorization_code', 'refresh_token', 'client_credentials']
  if (ctx.idJagIssuers.length > 0) grantTypes.push(JWT_BEARER_GRANT)
  const metadata: AuthorizationServerMetadata = {
    issuer: ctx.issuer,
    authorization_endpoint: ctx.endpoints.authorization,
    token_endpoint: ctx.endpoints.token,
    jwks_uri: ctx.endpoints.jwks,
    ...(ctx.registration.mode === 'closed' ? {} : { registration_endpoint: ctx.endpoints.registration }),
    scopes_supported: [...scopes],
    response_types_supported: ['code'],
    response_modes_supported: ['query'],
    grant_types_supported: grantTypes,
    token_endpoint_auth_methods_supported: AUTH_METHODS,
    token_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    revocation_endpoint: ctx.endpoints.revocation,
    revocation_endpoint_auth_methods_supported: AUTH_METHODS,
    revocation_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    introspection_endpoint: ctx.endpoints.introspection,
    introspection_endpoint_auth_methods_supported: AUTH_METHODS.filter((m) => m !== 'none'),
    introspection_endpoint_auth_signing_alg_values_supported: [...ASSERTION_ALGORITHMS],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: true,
    client_id_metadata_document_supported: ctx.cimd !== undefined,
  }
  if (ctx.idJagIssuers.length > 0) metadata.authorization_grant_profiles_supported = [ID_JAG_PROFILE]
  return metadata
}

/** The pathnames the metadata is served at. */
export function metadataPaths(issuer: string): string[] {
  return authorizationServerMetadataUrls(issuer).map((u) => new URL(u.url).pathname)
}

/** Handles `GET` of a metadata path. */
export function handleMetadata(ctx: ServerContext): Response {
  return jsonResponse(buildMetadata(ctx), 200, { 'cache-control': 'public, max-age=300' })
}
