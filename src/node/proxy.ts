/**
 * Node defaults for the proxy: every outbound fetch (the upstream provider's metadata, token,
 * userinfo, JWKS and revocation endpoints; Client ID Metadata Documents; client `jwks_uri`) goes
 * through the SSRF-safe fetch with no redirects, hashes, signatures and random tokens use
 * `node:crypto`, and requests carry their socket's address for the registration rate limits.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createOAuthProxy, type OAuthProxy, type OAuthProxyOptions } from '../proxy/proxy.js'
import type { UpstreamOptions } from '../proxy/upstream-options.js'
import { toNodeHandler } from './adapters/node-http.js'
import { type NodeOutboundFetchOptions, nodeServerDefaults } from './authorization-server.js'
import { createSafeFetch, type SafeFetchOptions } from './safe-fetch/safe-fetch.js'

/** Options of {@link createNodeOAuthProxy}. */
export interface NodeOAuthProxyOptions
  extends Omit<OAuthProxyOptions, 'cimd' | 'fetch' | 'upstream'>,
    NodeOutboundFetchOptions {
  /** The upstream provider; its `fetch` defaults to the SSRF-safe fetch. */
  upstream: UpstreamOptions
  /**
   * Options of the default safe fetches. An identity provider on a private network needs its own
   * `upstream.fetch` (the safe fetch refuses private addresses); `allowLoopback` is for local
   * development only.
   */
  safeFetch?: SafeFetchOptions
}

/** The proxy plus a `node:http` request listener. */
export interface NodeOAuthProxy extends OAuthProxy {
  /** `http.createServer(proxy.listener)`: passes the socket's address to the rate limits. */
  listener(req: IncomingMessage, res: ServerResponse): Promise<void>
}

/**
 * {@link createOAuthProxy} with Node defaults.
 *
 * @example
 * ```ts
 * const proxy = createNodeOAuthProxy({
 *   issuer: 'https://mcp.example.com',
 *   store: await createSqliteStore({ filename: 'proxy.db', encryptionKey: process.env.ENCRYPTION_KEY! }),
 *   resources: [{ uri: 'https://mcp.example.com/mcp', scopes: { 'mcp:tools': 'Use the tools' } }],
 *   cookieSecret: process.env.COOKIE_SECRET!,
 *   upstream: github({ clientId: process.env.GITHUB_CLIENT_ID!, clientSecret: process.env.GITHUB_CLIENT_SECRET! }),
 * })
 * http.createServer(proxy.listener).listen(3000)
 * ```
 * @see [MCP Security Best Practices: SSRF](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#server-side-request-forgery-ssrf)
 */
export function createNodeOAuthProxy(options: NodeOAuthProxyOptions): NodeOAuthProxy {
  const addresses = new WeakMap<Request, string>()
  const { cimd, fetch, safeFetch, upstream, ...rest } = options
  const jsonFetch = createSafeFetch({
    maxRedirects: 0,
    maxBodyBytes: 256 * 1024,
    timeoutMs: 10_000,
    ...safeFetch,
  })
  const portable: OAuthProxyOptions = {
    ...rest,
    upstream: { ...upstream, fetch: upstream.fetch ?? ((input, init) => jsonFetch(input, init)) },
    ...nodeServerDefaults(options, addresses),
  }
  const proxy = createOAuthProxy(portable)
  const origin = new URL(options.issuer).origin
  const listener = toNodeHandler(
    (request, req) => {
      if (req.socket.remoteAddress !== undefined) addresses.set(request, req.socket.remoteAddress)
      return proxy.fetch(request)
    },
    { origin },
  )
  return { ...proxy, listener }
}
