/**
 * Which URLs the client is willing to talk to about authorization. Every URL a resource or an
 * authorization server hands the client (metadata locations, endpoints, issuers) passes here
 * before it is fetched, posted to or opened.
 *
 * @see [MCP Security Best Practices: SSRF](https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices) HTTPS for every OAuth URL, loopback `http` only for development
 * @see [OAuth 2.1 §1.5](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-1.5) communication security
 * @module
 */

import { assertSecureEndpoint } from '../protocol/authorization-server-metadata.js'
import { ClientError } from './errors.js'

/** The transport policy for authorization URLs. */
export interface EndpointPolicy {
  /** Accept `http:` to a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`). For development and tests. */
  allowInsecureLoopback: boolean
}

/**
 * Returns `url` when it is `https:`, or `http:` to a loopback host under `allowInsecureLoopback`.
 * Everything else (`http:` elsewhere, `javascript:`, `file:`, custom schemes, userinfo,
 * fragments) is refused with `ERR_INSECURE_URL`. `what` names the URL in the error.
 *
 * @throws {ClientError} `ERR_INSECURE_URL`
 */
export function checkEndpoint(url: string, policy: EndpointPolicy, what: string): string {
  try {
    assertSecureEndpoint(url, { allowHttpLoopback: policy.allowInsecureLoopback })
  } catch (error) {
    throw new ClientError('ERR_INSECURE_URL', `refusing ${what}: it must be an https URL`, {
      detail: policy.allowInsecureLoopback
        ? 'only https, or http to a loopback host, is accepted'
        : 'only https is accepted (http to loopback needs allowInsecureLoopback)',
      cause: error,
    })
  }
  return url
}
