/**
 * Where metadata documents live: the well-known URLs of Protected Resource Metadata (RFC 9728)
 * and Authorization Server Metadata (RFC 8414, OpenID Connect Discovery).
 *
 * URLs are built by hand from the components as written: `URL.href` appends `/` to an empty
 * path, and the path inserted after the well-known segment must be the identifier's own.
 *
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1)
 * @see [MCP Authorization: Authorization Server Metadata Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery)
 * @module
 */

import { type ParsedHttpUrl, parseHttpUrl } from './metadata-fields.js'

const PRM_SUFFIX = '/.well-known/oauth-protected-resource'
const OAUTH_AS_SUFFIX = '/.well-known/oauth-authorization-server'
const OIDC_SUFFIX = '/.well-known/openid-configuration'

/** One candidate URL for Authorization Server Metadata, with the document kind it serves. */
export interface AuthorizationServerMetadataUrl {
  url: string
  /** `oauth`: RFC 8414 metadata; `oidc`: OpenID Connect Discovery 1.0 metadata. */
  kind: 'oauth' | 'oidc'
}

function parseBase(input: string, allowQuery: boolean): ParsedHttpUrl & { origin: string; path: string } {
  const parsed = parseHttpUrl(input, { allowQuery })
  // `URL.host` is the lower-cased (punycode) host with the default port removed.
  const origin = `${parsed.scheme}://${parsed.url.host}`
  // RFC 9728 §3.1 / RFC 8414 §3.1: a terminating `/` is removed before insertion, so a root
  // path (`/`) is no path at all.
  const path = parsed.path.endsWith('/') ? parsed.path.slice(0, -1) : parsed.path
  return { ...parsed, origin, path }
}

/**
 * The URLs at which a client looks for the Protected Resource Metadata of `resource`, in order:
 * the path-suffixed well-known URL, then the root one. When `resource` has no path (or just `/`)
 * and no query, both are the same URL and it is returned once.
 *
 * The path-suffixed URL is `origin + "/.well-known/oauth-protected-resource" + path + query`,
 * with a terminating `/` of the path removed first. A `resource_metadata` URL from a
 * `WWW-Authenticate` challenge, when present, is tried before both (MCP); that is the caller's
 * order, not this function's.
 *
 * @throws {ProtocolError} `ERR_INVALID_URL` for a relative URL, a scheme other than `http(s)`,
 *   userinfo, a fragment, dot segments or characters outside RFC 3986
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)
 * @see [MCP Authorization: Protected Resource Metadata Discovery Requirements](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protected-resource-metadata-discovery-requirements)
 */
export function protectedResourceMetadataUrls(resource: string): string[] {
  const base = parseBase(resource, true)
  const query = base.query === undefined ? '' : `?${base.query}`
  const suffixed = `${base.origin}${PRM_SUFFIX}${base.path}${query}`
  const root = `${base.origin}${PRM_SUFFIX}`
  return suffixed === root ? [root] : [suffixed, root]
}

/**
 * The Protected Resource Metadata URL of `resource` as RFC 9728 §3.1 builds it: the URL a
 * resource server serves its metadata at.
 *
 * @throws {ProtocolError} `ERR_INVALID_URL`
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)
 */
export function protectedResourceMetadataUrl(resource: string): string {
  // The first candidate is always the path-suffixed one (or the root, when they coincide).
  return protectedResourceMetadataUrls(resource)[0]!
}

/**
 * The URLs at which a client looks for the metadata of the authorization server `issuer`, in
 * order. For an issuer with a path (`https://auth.example.com/tenant1`):
 *
 * 1. `https://auth.example.com/.well-known/oauth-authorization-server/tenant1` (RFC 8414)
 * 2. `https://auth.example.com/.well-known/openid-configuration/tenant1` (RFC 8414 §5)
 * 3. `https://auth.example.com/tenant1/.well-known/openid-configuration` (OIDC Discovery §4)
 *
 * and for an issuer without one: `/.well-known/oauth-authorization-server`, then
 * `/.well-known/openid-configuration`. A root well-known URL is never returned for an issuer
 * with a path: that document would belong to another issuer.
 *
 * An issuer has no query and no fragment (RFC 8414 §2); either is refused, as are userinfo,
 * relative URLs and schemes other than `http(s)`. Whether plain `http` is acceptable is the
 * caller's policy ({@link assertSecureEndpoint}).
 *
 * @throws {ProtocolError} `ERR_INVALID_URL`
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1) path insertion
 * @see [RFC 8414 §5](https://www.rfc-editor.org/rfc/rfc8414#section-5) compatibility with OpenID Connect
 * @see [OpenID Connect Discovery 1.0 §4](https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderConfig)
 * @see [MCP Authorization: Authorization Server Metadata Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery)
 */
export function authorizationServerMetadataUrls(issuer: string): AuthorizationServerMetadataUrl[] {
  const base = parseBase(issuer, false)
  if (base.path === '') {
    return [
      { url: `${base.origin}${OAUTH_AS_SUFFIX}`, kind: 'oauth' },
      { url: `${base.origin}${OIDC_SUFFIX}`, kind: 'oidc' },
    ]
  }
  return [
    { url: `${base.origin}${OAUTH_AS_SUFFIX}${base.path}`, kind: 'oauth' },
    { url: `${base.origin}${OIDC_SUFFIX}${base.path}`, kind: 'oidc' },
    { url: `${base.origin}${base.path}${OIDC_SUFFIX}`, kind: 'oidc' },
  ]
}

/**
 * The RFC 8414 metadata URL of `issuer`: the URL an authorization server serves its metadata at.
 *
 * @throws {ProtocolError} `ERR_INVALID_URL`
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1)
 */
export function authorizationServerMetadataUrl(issuer: string): string {
  return authorizationServerMetadataUrls(issuer)[0]!.url
}
