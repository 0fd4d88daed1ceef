/**
 * The MCP authorization client with Node defaults: SSRF-safe fetch for every authorization URL,
 * the loopback receiver and the system browser for logins.
 *
 * @module
 */

import { createMcpAuthClient, type McpAuthClient, type McpAuthClientOptions } from '../../client/flow.js'
import { createSafeFetch, type SafeFetchOptions } from '../safe-fetch/safe-fetch.js'
import { createLoopbackRedirectHandler } from './redirect-handler.js'

/** Options of {@link createNodeMcpAuthClient}. */
export interface NodeMcpAuthClientOptions extends McpAuthClientOptions {
  /** Options of the SSRF-safe fetch used for authorization URLs (when `oauthFetch` is not given). */
  safeFetch?: SafeFetchOptions
}

/**
 * {@link createMcpAuthClient} with Node defaults: `oauthFetch` is `createSafeFetch` (loopback
 * reachable only with `allowInsecureLoopback`), and `redirect` is the loopback receiver with the
 * system browser (printing the URL when there is none).
 */
export function createNodeMcpAuthClient(options: NodeMcpAuthClientOptions = {}): McpAuthClient {
  const { safeFetch, ...rest } = options
  const oauthFetch =
    rest.oauthFetch ??
    (createSafeFetch({ allowLoopback: rest.allowInsecureLoopback === true, ...safeFetch }) as typeof fetch)
  return createMcpAuthClient({
    ...rest,
    oauthFetch,
    redirect: rest.redirect ?? createLoopbackRedirectHandler(),
  })
}
