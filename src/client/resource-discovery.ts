/**
 * Finding and checking the Protected Resource Metadata of an MCP server.
 *
 * @see [RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)
 * @see [MCP Authorization: Protected Resource Metadata Discovery Requirements](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protected-resource-metadata-discovery-requirements)
 * @module
 */

import {
  type ProtectedResourceMetadata,
  resourceMatchesForDiscovery,
  validateProtectedResourceMetadata,
} from '../protocol/protected-resource-metadata.js'
import { canonicalResource } from '../protocol/resource.js'
import { protectedResourceMetadataUrls } from '../protocol/well-known.js'
import { checkEndpoint, type EndpointPolicy } from './endpoint-policy.js'
import { ClientError } from './errors.js'
import { metadataRequest, readMetadataDocument } from './metadata-response.js'

export { isNotFoundStatus } from './metadata-response.js'

/**
 * How strictly the metadata's `resource` must match the MCP endpoint:
 *
 * - `exact`: identical to the identifier the metadata URL stands for: the endpoint's canonical
 *   URL for the `resource_metadata` URL and the path-suffixed well-known URL, the endpoint's
 *   origin for the root well-known URL (RFC 9728 §3.3).
 * - `same-origin-prefix`: as `exact`, or the same origin with a path that is a whole-segment
 *   prefix of the endpoint's path (`https://h/api` covers `https://h/api/mcp`).
 */
export type ResourceCheck = 'exact' | 'same-origin-prefix'

/** One place to look for the metadata, and the identifier it must name under `exact`. */
export interface ProtectedResourceMetadataCandidate {
  url: string
  /** `challenge`: from `WWW-Authenticate`; `path` / `root`: a well-known URL. */
  source: 'challenge' | 'path' | 'root'
  expectedResource: string
}

/** A successfully discovered and checked metadata document. */
export interface ProtectedResourceDiscovery {
  metadata: ProtectedResourceMetadata
  url: string
}

/** Options of {@link discoverProtectedResource}. */
export interface DiscoverProtectedResourceOptions {
  fetch: typeof fetch
  policy: EndpointPolicy
  resourceCheck: ResourceCheck
  /** The `resource_metadata` URL of the challenge, when there was one. */
  challengeUrl?: string | undefined
  signal?: AbortSignal | undefined
  onRequest?: (url: string) => void
}

function origin(url: string): string {
  return canonicalResource(new URL(url).origin)
}

/**
 * The URLs to try, in the order MCP requires: the challenge's `resource_metadata`, then the
 * path-suffixed well-known URL, then the root well-known URL (each once).
 *
 * @throws {ClientError} `ERR_INSECURE_URL` for a challenge URL that is not https (or loopback http when allowed)
 */
export function protectedResourceMetadataCandidates(
  serverUrl: string,
  challengeUrl: string | undefined,
  policy: EndpointPolicy,
): ProtectedResourceMetadataCandidate[] {
  const resource = canonicalResource(serverUrl)
  const out: ProtectedResourceMetadataCandidate[] = []
  if (challengeUrl !== undefined) {
    out.push({
      url: checkEndpoint(challengeUrl, policy, 'resource_metadata URL'),
      source: 'challenge',
      expectedResource: resource,
    })
  }
  const [first, second] = protectedResourceMetadataUrls(resource)
  if (second === undefined) {
    out.push({ url: first!, source: 'root', expectedResource: origin(resource) })
  } else {
    out.push({ url: first!, source: 'path', expectedResource: resource })
    out.push({ url: second, source: 'root', expectedResource: origin(resource) })
  }
  const seen = new Set<string>()
  return out.filter((c) => !seen.has(c.url) && seen.add(c.url))
}

/**
 * Sends the metadata request.
 *
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)
 */
export const protectedResourceMetadataRequest: typeof metadataRequest = metadataRequest

/**
 * Checks a metadata response: `undefined` when the document is not at this location, else the
 * validated metadata, whose `resource` must match the endpoint under `resourceCheck`.
 *
 * @throws {ClientError} `ERR_RESOURCE_MISMATCH` (the document is for another resource and must not
 *   be used), `ERR_DISCOVERY` (server error or malformed document)
 * @see [RFC 9728 §3.2, §3.3](https://www.rfc-editor.org/rfc/rfc9728#section-3.3)
 */
export async function processProtectedResourceMetadataResponse(
  response: Response,
  candidate: ProtectedResourceMetadataCandidate,
  serverUrl: string,
  resourceCheck: ResourceCheck,
): Promise<ProtectedResourceMetadata | undefined> {
  const metadata = await readMetadataDocument(
    response,
    'protected resource metadata',
    candidate.url,
    (json) => validateProtectedResourceMetadata(json),
  )
  if (metadata === undefined) return undefined
  const requested = canonicalResource(serverUrl)
  const matches =
    resourceCheck === 'exact'
      ? metadata.resource === candidate.expectedResource
      : metadata.resource === candidate.expectedResource ||
        resourceMatchesForDiscovery(metadata.resource, requested, 'same-origin-prefix')
  if (!matches) {
    throw new ClientError('ERR_RESOURCE_MISMATCH', 'protected resource metadata is for another resource', {
      detail: `${candidate.url} names a resource that does not match ${requested}`,
    })
  }
  return metadata
}

/**
 * Finds the Protected Resource Metadata of `serverUrl`: the challenge's URL, then the well-known
 * URLs, stopping at the first document. `undefined` means no location has one: a 2025-03-26
 * server, whose origin is its authorization server.
 *
 * @throws {ClientError} `ERR_RESOURCE_MISMATCH`, `ERR_DISCOVERY`, `ERR_INSECURE_URL`
 * @see [MCP Authorization: Protected Resource Metadata Discovery Requirements](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protected-resource-metadata-discovery-requirements)
 */
export async function discoverProtectedResource(
  serverUrl: string,
  options: DiscoverProtectedResourceOptions,
): Promise<ProtectedResourceDiscovery | undefined> {
  const candidates = protectedResourceMetadataCandidates(serverUrl, options.challengeUrl, options.policy)
  for (const candidate of candidates) {
    checkEndpoint(candidate.url, options.policy, 'protected resource metadata URL')
    options.onRequest?.(candidate.url)
    const response = await protectedResourceMetadataRequest(candidate.url, options)
    const metadata = await processProtectedResourceMetadataResponse(
      response,
      candidate,
      serverUrl,
      options.resourceCheck,
    )
    if (metadata !== undefined) return { metadata, url: candidate.url }
  }
  return undefined
}
