/**
 * Step 2: the Protected Resource Metadata is where clients look for it (the challenge's
 * `resource_metadata`, the path-suffixed well-known URL, the root one), names this resource, and
 * lists at least one authorization server.
 *
 * @module
 */
import { urlProblem } from '../../protocol/metadata-fields.js'
import {
  type ProtectedResourceMetadata,
  resourceMatchesForDiscovery,
  validateProtectedResourceMetadata,
} from '../../protocol/protected-resource-metadata.js'
import { protectedResourceMetadataUrls } from '../../protocol/well-known.js'
import type { DoctorContext } from './context.js'
import { type Finding, printable } from './finding.js'
import { describeError, describeOutcome, getMetadata, type Outcome } from './http.js'
import { SPEC } from './spec.js'

interface Probe {
  url: string
  outcome: Outcome
}

/**
 * Finds, fetches and validates the PRM. Records the document clients would use in
 * `ctx.state.prm`.
 *
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1) well-known URLs
 * @see [RFC 9728 §3.3](https://www.rfc-editor.org/rfc/rfc9728#section-3.3) `resource` must be identical
 * @see [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1) `resource_metadata` in the challenge
 * @see [MCP Authorization: Protected Resource Metadata Discovery Requirements](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protected-resource-metadata-discovery-requirements)
 */
export async function checkProtectedResourceMetadata(ctx: DoctorContext): Promise<void> {
  const wellKnown = await probeWellKnown(ctx)
  const found = wellKnown.find((probe) => probe.outcome.kind === 'json')
  reportResourceMetadataParam(ctx, found !== undefined)
  const headerUrl = await probeHeaderUrl(ctx)
  reportWellKnown(ctx, wellKnown, headerUrl)

  // A client given a working header URL uses it; otherwise the well-known document (a broken
  // header URL is already a failure above, and the well-known one still shows what else is wrong).
  const chosen = headerUrl?.outcome.kind === 'json' ? headerUrl : found
  if (chosen === undefined || chosen.outcome.kind !== 'json') {
    ctx.report({
      id: 'prm.found',
      status: 'fail',
      title: 'Protected Resource Metadata is published',
      message: 'no Protected Resource Metadata was found at any URL clients look at',
      fix: `Serve the PRM document at ${wellKnown[0]?.url ?? '/.well-known/oauth-protected-resource'} and point to it from the 401 challenge (resource_metadata).`,
      spec: [SPEC.rfc9728WellKnown, SPEC.mcpPrmDiscovery],
    })
    return
  }
  validateDocument(ctx, chosen.url, chosen.outcome.json)
}

/** The challenge's `resource_metadata`, fetched first as clients MUST (MCP). */
async function probeHeaderUrl(ctx: DoctorContext): Promise<Probe | undefined> {
  const value = ctx.state.challenge?.resource_metadata
  if (value === undefined) return undefined
  const title = 'The challenge’s resource_metadata URL serves the PRM'
  const spec = [SPEC.rfc9728Header, SPEC.mcpPrmDiscovery]
  const problem = urlProblem(value)
  if (problem !== undefined) {
    ctx.report({
      id: 'prm.header-url',
      status: 'fail',
      title,
      message: `resource_metadata="${printable(value)}" is not an absolute http(s) URL: ${problem}`,
      fix: 'Put the absolute URL of the PRM document in resource_metadata.',
      spec,
    })
    return undefined
  }
  const outcome = await getMetadata(ctx, value)
  if (outcome.kind === 'json') {
    ctx.report({
      id: 'prm.header-url',
      status: 'pass',
      title,
      message: `GET ${value}: 200, JSON`,
      url: value,
      spec,
    })
  } else {
    ctx.report({
      id: 'prm.header-url',
      status: 'fail',
      title,
      message: `GET ${value}: ${describeOutcome(outcome)}; clients that are given this URL do not look elsewhere`,
      fix: 'Serve the PRM JSON document (200, application/json) at the URL the challenge names, or fix the URL.',
      url: value,
      spec,
    })
  }
  return { url: value, outcome }
}

async function probeWellKnown(ctx: DoctorContext): Promise<Probe[]> {
  const probes: Probe[] = []
  for (const url of protectedResourceMetadataUrls(ctx.mcpUrl)) {
    probes.push({ url, outcome: await getMetadata(ctx, url) })
  }
  return probes
}

function reportResourceMetadataParam(ctx: DoctorContext, wellKnownFound: boolean): void {
  if (ctx.state.challenge === undefined) return
  const title = 'The challenge points to the PRM (resource_metadata)'
  if (ctx.state.challenge.resource_metadata !== undefined) {
    ctx.report({
      id: 'challenge.resource-metadata',
      status: 'pass',
      title,
      message: `resource_metadata="${printable(ctx.state.challenge.resource_metadata)}"`,
      spec: [SPEC.rfc9728Header, SPEC.mcpPrmDiscovery],
    })
    return
  }
  ctx.report({
    id: 'challenge.resource-metadata',
    status: wellKnownFound ? 'warn' : 'fail',
    title,
    message: wellKnownFound
      ? 'the Bearer challenge has no resource_metadata; 2025-11-25 clients find the PRM at a well-known URL, 2025-06-18 clients require the parameter'
      : 'the Bearer challenge has no resource_metadata and no well-known URL serves the PRM',
    fix: 'Add resource_metadata="<PRM URL>" to the Bearer challenge of every 401.',
    spec: [SPEC.rfc9728Header, SPEC.mcpPrmDiscovery, SPEC.mcpHeaderRequired],
  })
}

function reportWellKnown(ctx: DoctorContext, probes: readonly Probe[], headerUrl: Probe | undefined): void {
  ctx.report({
    id: 'prm.well-known',
    title: 'The PRM is at the well-known URL',
    spec: [SPEC.rfc9728WellKnown, SPEC.mcpPrmDiscovery],
    ...wellKnownVerdict(probes, headerUrl),
  })
}

/** What `reportWellKnown` says: the first well-known URL passes; the root one or the challenge's alone warns. */
function wellKnownVerdict(
  probes: readonly Probe[],
  headerUrl: Probe | undefined,
): Pick<Finding, 'status' | 'message' | 'fix' | 'url'> {
  const [first, root] = probes
  if (first?.outcome.kind === 'json') {
    return { status: 'pass', message: `GET ${first.url}: 200, JSON`, url: first.url }
  }
  const tried = probes.map((probe) => `GET ${probe.url}: ${describeOutcome(probe.outcome)}`).join('; ')
  if (root?.outcome.kind === 'json') {
    return {
      status: 'warn',
      message: `${tried}; only the root URL serves it, which MCP clients try last and RFC 9728 clients never try for a resource with a path`,
      fix: `Serve the PRM at ${first?.url} (RFC 9728 §3.1 inserts the resource's path after the well-known segment).`,
      url: root.url,
    }
  }
  const url = first === undefined ? {} : { url: first.url }
  return headerUrl?.outcome.kind === 'json'
    ? {
        status: 'warn',
        message: `${tried}; only the challenge’s URL serves it, so a client that has not yet seen a 401 cannot find it`,
        fix: `Serve the PRM at ${first?.url} as well.`,
        ...url,
      }
    : { status: 'fail', message: tried, fix: `Serve the PRM JSON document at ${first?.url}.`, ...url }
}

function validateDocument(ctx: DoctorContext, url: string, json: Record<string, unknown>): void {
  let document: ProtectedResourceMetadata
  try {
    document = validateProtectedResourceMetadata(json, { requireAuthorizationServers: false })
  } catch (error) {
    ctx.report({
      id: 'prm.document',
      status: 'fail',
      title: 'The PRM document is valid',
      message: describeError(error).message,
      fix: 'Publish a JSON object with the RFC 9728 §2 members and types: resource (URL), authorization_servers (array of issuer URLs), scopes_supported (array of strings).',
      url,
      spec: [SPEC.rfc9728Prm],
    })
    return
  }
  ctx.report({
    id: 'prm.document',
    status: 'pass',
    title: 'The PRM document is valid',
    message: `resource="${printable(document.resource)}"`,
    url,
    spec: [SPEC.rfc9728Prm],
  })
  ctx.state.prm = { url, document }
  reportResource(ctx, url, document.resource)
  reportAuthorizationServers(ctx, url, document.authorization_servers)
}

function reportResource(ctx: DoctorContext, url: string, resource: string): void {
  const title = 'The PRM names this resource (resource)'
  const spec = [SPEC.rfc9728Validation, SPEC.mcpPrmDiscovery]
  if (resource === ctx.mcpUrl) {
    ctx.report({ id: 'prm.resource', status: 'pass', title, message: `resource is ${resource}`, url, spec })
    return
  }
  const near = resourceMatchesForDiscovery(resource, ctx.mcpUrl, 'same-origin-prefix')
  ctx.report({
    id: 'prm.resource',
    status: near ? 'warn' : 'fail',
    title,
    message: near
      ? `resource is ${printable(resource)}, not ${ctx.mcpUrl}; lenient clients accept a parent URL on the same origin, strict RFC 9728 clients refuse it`
      : `resource is ${printable(resource)}, not ${ctx.mcpUrl}; clients MUST NOT use this document`,
    fix: near
      ? `Set resource to exactly ${ctx.mcpUrl}, or, if ${printable(resource)} is the server's canonical URL, connect to that URL instead.`
      : `Set resource to exactly ${ctx.mcpUrl} (character for character), the URL clients connect to.`,
    url,
    spec,
  })
}

function reportAuthorizationServers(ctx: DoctorContext, url: string, servers: string[] | undefined): void {
  const title = 'The PRM lists an authorization server (authorization_servers)'
  const spec = [SPEC.rfc9728Prm, SPEC.mcpAsLocation]
  if (servers === undefined || servers.length === 0) {
    ctx.report({
      id: 'prm.authorization-servers',
      status: 'fail',
      title,
      message: servers === undefined ? 'authorization_servers is absent' : 'authorization_servers is empty',
      fix: 'List the issuer identifier of your authorization server in authorization_servers.',
      url,
      spec,
    })
    return
  }
  ctx.state.authorizationServers = servers.slice(0, ctx.maxAuthorizationServers).map((issuer) => ({ issuer }))
  const more =
    servers.length > ctx.maxAuthorizationServers ? ` (checking the first ${ctx.maxAuthorizationServers})` : ''
  ctx.report({
    id: 'prm.authorization-servers',
    status: 'pass',
    title,
    message: `authorization_servers: ${servers.map((s) => printable(s)).join(', ')}${more}`,
    url,
    spec,
  })
}
