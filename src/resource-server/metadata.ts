/**
 * Serving OAuth 2.0 Protected Resource Metadata (RFC 9728): the document, the well-known paths,
 * CORS for browser clients and cache headers.
 *
 * @see [RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)
 * @module
 */

/** The root well-known path (RFC 9728 §3). */
export const PRM_ROOT_PATH = '/.well-known/oauth-protected-resource'

/**
 * Request headers a browser client may send to the MCP endpoint and to the metadata; the
 * preflight allows them.
 *
 * @see [MCP Transports: Protocol Version Header](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#protocol-version-header)
 */
export const CORS_ALLOWED_HEADERS = 'Authorization, MCP-Protocol-Version, Content-Type'

/** Path and query of an absolute request URL, without parsing it (hot path). */
export function pathAndQuery(url: string): string {
  const authority = url.indexOf('//')
  const slash = url.indexOf('/', authority === -1 ? 0 : authority + 2)
  return slash === -1 ? '/' : url.slice(slash)
}

/** What a prepared metadata endpoint needs. */
export interface MetadataEndpoint {
  /** Paths (with query, when the resource has one) the document is served at. */
  paths: ReadonlySet<string>
  /** The serialized document. */
  body: string
  cacheControl: string
}

function corsHeaders(): Headers {
  return new Headers({
    'access-control-allow-origin': '*',
    'access-control-allow-methods': 'GET, HEAD, OPTIONS',
    'access-control-allow-headers': CORS_ALLOWED_HEADERS,
    'access-control-max-age': '86400',
  })
}

/**
 * The metadata response for `request`, or `undefined` when its path is not one of the metadata
 * paths. `GET`/`HEAD` get the document, `OPTIONS` the CORS preflight answer, any other method
 * `405`. No authentication: the document is public (RFC 9728 §3).
 *
 * @see [RFC 9728 §3.2](https://www.rfc-editor.org/rfc/rfc9728#section-3.2)
 */
export function metadataResponse(endpoint: MetadataEndpoint, request: Request): Response | undefined {
  if (!endpoint.paths.has(pathAndQuery(request.url))) return undefined
  const headers = corsHeaders()
  switch (request.method) {
    case 'OPTIONS':
      return new Response(null, { status: 204, headers })
    case 'GET':
    case 'HEAD':
      headers.set('content-type', 'application/json')
      headers.set('cache-control', endpoint.cacheControl)
      return new Response(request.method === 'HEAD' ? null : endpoint.body, { status: 200, headers })
    default:
      headers.set('allow', 'GET, HEAD, OPTIONS')
      return new Response(null, { status: 405, headers })
  }
}
