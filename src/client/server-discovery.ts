/**
 * Finding and checking an authorization server's metadata, and the 2025-03-26 fallback.
 *
 * @see [RFC 8414 §3](https://www.rfc-editor.org/rfc/rfc8414#section-3)
 * @see [MCP Authorization: Authorization Server Metadata Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery)
 * @module
 */

import {
  type AuthorizationServerMetadata,
  validateAuthorizationServerMetadata,
} from '../protocol/authorization-server-metadata.js'
import { ProtocolError } from '../protocol/errors.js'
import { authorizationServerMetadataUrls } from '../protocol/well-known.js'
import { checkEndpoint, type EndpointPolicy } from './endpoint-policy.js'
import { ClientError } from './errors.js'
import { metadataRequest, readMetadataDocument } from './metadata-response.js'

/** Options of {@link discoverAuthorizationServer}. */
export interface DiscoverAuthorizationServerOptions {
  fetch: typeof fetch
  policy: EndpointPolicy
  /** Refuse a server that does not advertise PKCE `S256` (the authorization code grant). Default true. */
  requirePkce?: boolean
  signal?: AbortSignal | undefined
  onRequest?: (url: string) => void
}

/** Metadata found for an issuer, with where it was found. */
export interface AuthorizationServerDiscovery {
  metadata: AuthorizationServerMetadata
  url: string
  kind: 'oauth' | 'oidc'
}

/**
 * Sends one metadata request.
 *
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1)
 */
export const authorizationServerMetadataRequest: typeof metadataRequest = metadataRequest

/**
 * Checks one metadata response: `undefined` when the document is not at this location, else the
 * validated metadata. The `issuer` must be identical to the issuer the URL was built from; a
 * document that names another issuer is refused outright, its endpoints never used.
 *
 * @throws {ClientError} `ERR_ISSUER_MISMATCH`, `ERR_PKCE_UNSUPPORTED`, `ERR_DISCOVERY`
 * @see [RFC 8414 §3.3](https://www.rfc-editor.org/rfc/rfc8414#section-3.3)
 * @see [MCP 2026-07-28 Authorization Server Discovery](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/authorization-server-discovery) issuer validation (SEP-2468)
 */
export async function processAuthorizationServerMetadataResponse(
  response: Response,
  issuer: string,
  options: { requirePkce?: boolean | undefined; url: string },
): Promise<AuthorizationServerMetadata | undefined> {
  return readMetadataDocument(response, 'authorization server metadata', options.url, (json) => {
    try {
      return validateAuthorizationServerMetadata(json, {
        expectedIssuer: issuer,
        requireS256: options.requirePkce !== false,
      })
    } catch (error) {
      if (error instanceof ProtocolError && error.code === 'ERR_ISSUER_MISMATCH') {
        throw new ClientError('ERR_ISSUER_MISMATCH', 'authorization server metadata names another issuer', {
          detail: error.detail,
          cause: error,
        })
      }
      if (error instanceof ProtocolError && error.code === 'ERR_PKCE') {
        throw new ClientError('ERR_PKCE_UNSUPPORTED', 'the authorization server does not support PKCE S256', {
          detail: error.detail,
          cause: error,
        })
      }
      throw error
    }
  })
}

/**
 * Finds the metadata of `issuer` at the well-known URLs in the order MCP requires (RFC 8414 path
 * insertion, OIDC path insertion, OIDC path appending; never a root URL for an issuer with a
 * path). `undefined` when no location has a document.
 *
 * @throws {ClientError} `ERR_ISSUER_MISMATCH`, `ERR_PKCE_UNSUPPORTED`, `ERR_DISCOVERY`, `ERR_INSECURE_URL`
 */
export async function discoverAuthorizationServer(
  issuer: string,
  options: DiscoverAuthorizationServerOptions,
): Promise<AuthorizationServerDiscovery | undefined> {
  checkEndpoint(issuer, options.policy, 'authorization server issuer')
  let candidates: ReturnType<typeof authorizationServerMetadataUrls>
  try {
    candidates = authorizationServerMetadataUrls(issuer)
  } catch (error) {
    throw new ClientError('ERR_DISCOVERY', 'the authorization server issuer is not a valid URL', {
      cause: error,
    })
  }
  for (const candidate of candidates) {
    options.onRequest?.(candidate.url)
    const response = await authorizationServerMetadataRequest(candidate.url, options)
    const metadata = await processAuthorizationServerMetadataResponse(response, issuer, {
      requirePkce: options.requirePkce,
      url: candidate.url,
    })
    if (metadata !== undefined) {
      assertUsableEndpoints(metadata, options.policy)
      return { metadata, url: candidate.url, kind: candidate.kind }
    }
  }
  return undefined
}

/**
 * Refuses metadata whose endpoints the client would use without TLS: the authorization,
 * token, registration and revocation endpoints.
 *
 * @throws {ClientError} `ERR_INSECURE_URL`
 */
export function assertUsableEndpoints(metadata: AuthorizationServerMetadata, policy: EndpointPolicy): void {
  for (const member of [
    'authorization_endpoint',
    'token_endpoint',
    'registration_endpoint',
    'revocation_endpoint',
  ] as const) {
    const value = metadata[member]
    if (value !== undefined) checkEndpoint(value, policy, member)
  }
}

/**
 * The metadata a 2025-03-26 client assumes when a server publishes none: the MCP server's origin
 * is the issuer, with `/authorize`, `/token` and `/register` at its root. PKCE `S256` is used
 * regardless (the revision leaves no way to check for it).
 *
 * @see [MCP 2025-03-26 Authorization §2.3.3](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-3-3-fallbacks-for-servers-without-metadata-discovery)
 */
export function legacyAuthorizationServerMetadata(origin: string): AuthorizationServerMetadata {
  return {
    issuer: origin,
    authorization_endpoint: `${origin}/authorize`,
    token_endpoint: `${origin}/token`,
    registration_endpoint: `${origin}/register`,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
  }
}
