/**
 * The proxy as an OAuth client of the upstream provider: the static client, its authentication,
 * and the request options every upstream call shares. The secret is used here and nowhere else.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { StoredClient } from '../client/credential-store.js'
import { clientAuthentication, type TokenRequestContext } from '../client/token.js'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import type { ResolvedUpstream } from './upstream-options.js'

/** The proxy's static registration at the provider, in the client role's shape. */
export function upstreamStoredClient(upstream: ResolvedUpstream): StoredClient {
  return {
    issuer: upstream.issuer,
    client_id: upstream.clientId,
    client_secret: upstream.clientSecret,
    token_endpoint_auth_method: upstream.tokenEndpointAuthMethod,
    source: 'pre-registered',
  }
}

/** oauth4webapi's view of the provider. */
export function asServer(metadata: AuthorizationServerMetadata): oauth.AuthorizationServer {
  return metadata as oauth.AuthorizationServer
}

/** oauth4webapi's view of the static client. */
export function asClient(upstream: ResolvedUpstream): oauth.Client {
  return { client_id: upstream.clientId, token_endpoint_auth_method: upstream.tokenEndpointAuthMethod }
}

/**
 * The client authentication for the token and revocation endpoints.
 *
 * @see [RFC 6749 §2.3.1](https://www.rfc-editor.org/rfc/rfc6749#section-2.3.1)
 */
export function upstreamClientAuth(upstream: ResolvedUpstream): oauth.ClientAuth {
  return clientAuthentication(upstreamStoredClient(upstream))
}

/** Options of every oauth4webapi call to the provider. */
export function upstreamRequestOptions(upstream: ResolvedUpstream): {
  [oauth.customFetch]: typeof fetch
  [oauth.allowInsecureRequests]: boolean
} {
  return {
    [oauth.customFetch]: upstream.fetch as typeof fetch,
    [oauth.allowInsecureRequests]: upstream.allowInsecureLoopback,
  }
}

/** The client role's token request context, for the steps reused as they are (revocation). */
export function upstreamTokenContext(
  upstream: ResolvedUpstream,
  metadata: AuthorizationServerMetadata,
  clock: () => number,
): TokenRequestContext {
  return {
    metadata,
    client: upstreamStoredClient(upstream),
    fetch: upstream.fetch as typeof fetch,
    policy: { allowInsecureLoopback: upstream.allowInsecureLoopback },
    clock,
  }
}
