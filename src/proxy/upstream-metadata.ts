/**
 * The upstream provider's metadata: discovered once (RFC 8414, then OpenID Connect Discovery) with
 * the client role's discovery step, or built from explicit endpoints. A failed discovery is not
 * cached, so the next request tries again.
 *
 * @see [RFC 8414 §3](https://www.rfc-editor.org/rfc/rfc8414#section-3)
 * @see [OpenID Connect Discovery 1.0 §4](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)
 * @module
 */
import { ClientError } from '../client/errors.js'
import { discoverAuthorizationServer } from '../client/server-discovery.js'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import { ProxyError } from './errors.js'
import { ID_TOKEN_ALGORITHMS } from './identity.js'
import type { ResolvedUpstream } from './upstream-options.js'

/** Metadata from explicit endpoints: nothing is fetched. */
export function explicitUpstreamMetadata(
  upstream: ResolvedUpstream,
): AuthorizationServerMetadata | undefined {
  const e = upstream.endpoints
  if (e === undefined) return undefined
  const metadata: AuthorizationServerMetadata = {
    issuer: upstream.issuer,
    authorization_endpoint: e.authorization,
    token_endpoint: e.token,
    response_types_supported: ['code'],
    code_challenge_methods_supported: ['S256'],
    authorization_response_iss_parameter_supported: upstream.issParameterSupported === true,
    // The signature is verified with the JWKS; any asymmetric algorithm is acceptable here.
    id_token_signing_alg_values_supported: [...ID_TOKEN_ALGORITHMS],
  }
  if (e.userinfo !== undefined) metadata.userinfo_endpoint = e.userinfo
  if (e.revocation !== undefined) metadata.revocation_endpoint = e.revocation
  if (e.jwks !== undefined) metadata.jwks_uri = e.jwks
  return metadata
}

/** Checks that discovered metadata has what the configured identity source needs. */
function assertUsable(
  upstream: ResolvedUpstream,
  metadata: AuthorizationServerMetadata,
): AuthorizationServerMetadata {
  if (metadata.authorization_endpoint === undefined || metadata.token_endpoint === undefined) {
    throw new ProxyError(
      'ERR_UPSTREAM_DISCOVERY',
      'the identity provider has no authorization or token endpoint',
    )
  }
  if (upstream.identity.from === 'id_token' && metadata.jwks_uri === undefined) {
    throw new ProxyError(
      'ERR_UPSTREAM_DISCOVERY',
      'the identity provider publishes no jwks_uri for ID Tokens',
    )
  }
  if (upstream.identity.from === 'userinfo' && metadata.userinfo_endpoint === undefined) {
    throw new ProxyError('ERR_UPSTREAM_DISCOVERY', 'the identity provider publishes no userinfo_endpoint')
  }
  if (upstream.issParameterSupported !== undefined) {
    return { ...metadata, authorization_response_iss_parameter_supported: upstream.issParameterSupported }
  }
  return metadata
}

/**
 * A memoized metadata source for `upstream`. Throws `ProxyError` `ERR_UPSTREAM_DISCOVERY` when
 * the provider publishes no usable document (an issuer mismatch included: RFC 8414 §3.3).
 */
export function createUpstreamMetadata(
  upstream: ResolvedUpstream,
): () => Promise<AuthorizationServerMetadata> {
  const explicit = explicitUpstreamMetadata(upstream)
  if (explicit !== undefined) {
    const ready = Promise.resolve(explicit)
    return () => ready
  }
  let pending: Promise<AuthorizationServerMetadata> | undefined
  async function discover(): Promise<AuthorizationServerMetadata> {
    let found: Awaited<ReturnType<typeof discoverAuthorizationServer>>
    try {
      found = await discoverAuthorizationServer(upstream.issuer, {
        fetch: upstream.fetch as typeof fetch,
        policy: { allowInsecureLoopback: upstream.allowInsecureLoopback },
        // PKCE is always sent; a provider that does not advertise it is still usable (we are a
        // confidential client), so its absence is not fatal here.
        requirePkce: false,
      })
    } catch (error) {
      throw new ProxyError('ERR_UPSTREAM_DISCOVERY', 'the identity provider metadata could not be used', {
        ...(error instanceof ClientError ? { detail: `${error.code}: ${error.message}` } : {}),
        cause: error,
      })
    }
    if (found === undefined) {
      throw new ProxyError('ERR_UPSTREAM_DISCOVERY', 'the identity provider publishes no metadata', {
        detail: `no metadata document for ${upstream.issuer}`,
      })
    }
    return assertUsable(upstream, found.metadata)
  }
  return () => {
    if (pending === undefined) {
      pending = discover()
      pending.catch(() => {
        pending = undefined
      })
    }
    return pending
  }
}
