/**
 * Step 3: each authorization server the PRM names publishes its metadata at the URLs clients
 * try, in their order, and the document's `issuer` is the identifier it was fetched for.
 *
 * @module
 */
import {
  type AuthorizationServerMetadata,
  validateAuthorizationServerMetadata,
} from '../../protocol/authorization-server-metadata.js'
import {
  type AuthorizationServerMetadataUrl,
  authorizationServerMetadataUrls,
} from '../../protocol/well-known.js'
import type { AuthorizationServerState, DoctorContext } from './context.js'
import { printable } from './finding.js'
import { describeError, describeOutcome, getMetadata, type Outcome } from './http.js'
import { SPEC } from './spec.js'

/**
 * Discovers and validates the metadata of every authorization server in `ctx.state`.
 *
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1) well-known URL, path insertion
 * @see [RFC 8414 §3.3](https://www.rfc-editor.org/rfc/rfc8414#section-3.3) `issuer` MUST be identical
 * @see [MCP Authorization: Authorization Server Metadata Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-metadata-discovery)
 */
export async function checkAuthorizationServerMetadata(ctx: DoctorContext): Promise<void> {
  for (const server of ctx.state.authorizationServers) await checkOne(ctx, server)
}

async function checkOne(ctx: DoctorContext, server: AuthorizationServerState): Promise<void> {
  const { issuer } = server
  const title = `Authorization server metadata is published (${printable(issuer, 80)})`
  const spec = [SPEC.rfc8414WellKnown, SPEC.oidcDiscovery, SPEC.mcpAsDiscovery]
  let candidates: AuthorizationServerMetadataUrl[]
  try {
    candidates = authorizationServerMetadataUrls(issuer)
  } catch (error) {
    ctx.report({
      id: 'as.metadata',
      status: 'fail',
      title,
      message: `the issuer is not a usable URL: ${describeError(error).message}`,
      fix: 'List an issuer identifier in authorization_servers: an https URL without query or fragment.',
      spec: [SPEC.rfc8414Metadata, ...spec],
    })
    return
  }
  const tried: string[] = []
  let found: { candidate: AuthorizationServerMetadataUrl; json: Record<string, unknown> } | undefined
  let blocking: { url: string; outcome: Outcome } | undefined
  for (const candidate of candidates) {
    const outcome = await getMetadata(ctx, candidate.url)
    tried.push(`GET ${candidate.url}: ${describeOutcome(outcome)}`)
    if (outcome.kind === 'json') {
      found = { candidate, json: outcome.json }
      break
    }
    // Clients go on to the next URL after a 4xx; anything else ends discovery.
    if (outcome.kind === 'status' && outcome.status >= 400 && outcome.status < 500) continue
    blocking = { url: candidate.url, outcome }
    break
  }
  if (found === undefined) {
    ctx.report({
      id: 'as.metadata',
      status: 'fail',
      title,
      message: tried.join('; '),
      fix: await notFoundFix(ctx, issuer, candidates, blocking),
      ...(candidates[0] === undefined ? {} : { url: candidates[0].url }),
      spec,
    })
    return
  }
  server.metadataUrl = found.candidate.url
  server.metadata = found.json as AuthorizationServerMetadata
  ctx.report({
    id: 'as.metadata',
    status: 'pass',
    title,
    message: tried.join('; '),
    url: found.candidate.url,
    spec,
  })
  reportIssuer(ctx, issuer, found.candidate.url, found.json)
  reportDocument(ctx, found.candidate.url, found.json)
}

async function notFoundFix(
  ctx: DoctorContext,
  issuer: string,
  candidates: readonly AuthorizationServerMetadataUrl[],
  blocking: { url: string; outcome: Outcome } | undefined,
): Promise<string> {
  if (blocking !== undefined) {
    return `Clients stop at ${blocking.url}: answer it with the metadata document or a 404 so they move on.`
  }
  const expected = candidates[0]?.url ?? ''
  const url = new URL(issuer)
  if (url.pathname !== '/' && url.pathname !== '') {
    // A common mistake: the document sits at the root while the issuer has a path. Clients never
    // look there (RFC 8414 §3.1), but saying so is the fix the operator needs.
    const root = `${url.origin}/.well-known/oauth-authorization-server`
    const outcome = await getMetadata(ctx, root)
    if (outcome.kind === 'json') {
      return `The document is at ${root}, but the issuer has a path, so clients look at ${expected}. Serve it there (path inserted after the well-known segment), or use ${url.origin} as the issuer.`
    }
  }
  return `Serve the RFC 8414 metadata at ${expected}.`
}

function reportIssuer(ctx: DoctorContext, issuer: string, url: string, json: Record<string, unknown>): void {
  const title = 'The metadata’s issuer is the one it was fetched for'
  const spec = [SPEC.rfc8414Validation, SPEC.mcpAsDiscovery]
  const named = json['issuer']
  if (named === issuer) {
    ctx.report({ id: 'as.issuer', status: 'pass', title, message: `issuer is ${issuer}`, url, spec })
    return
  }
  const slashOnly =
    typeof named === 'string' && (named === `${issuer}/` || `${named}/` === issuer)
      ? ' (they differ only in a trailing slash)'
      : ''
  ctx.report({
    id: 'as.issuer',
    status: 'fail',
    title,
    message: `the document names issuer ${printable(named)}, but was fetched for ${issuer}${slashOnly}; clients MUST NOT use it`,
    fix: `Make the two identical, character for character: publish "issuer": "${issuer}", or list the document's issuer in the PRM authorization_servers.`,
    url,
    spec,
  })
}

function reportDocument(ctx: DoctorContext, url: string, json: Record<string, unknown>): void {
  const title = 'The authorization server metadata is valid'
  const spec = [SPEC.rfc8414Metadata]
  const issuer = json['issuer']
  try {
    // The issuer echo and PKCE are reported on their own; here: types, URLs and required members.
    validateAuthorizationServerMetadata(json, {
      expectedIssuer: typeof issuer === 'string' ? issuer : '',
      requireS256: false,
    })
  } catch (error) {
    ctx.report({
      id: 'as.document',
      status: 'fail',
      title,
      message: describeError(error).message,
      fix: 'Publish the RFC 8414 §2 members with their types: issuer, authorization_endpoint, token_endpoint, response_types_supported (with "code"), code_challenge_methods_supported.',
      url,
      spec,
    })
    return
  }
  const missing = ['authorization_endpoint', 'token_endpoint'].filter(
    (name) => typeof json[name] !== 'string',
  )
  if (missing.length > 0) {
    ctx.report({
      id: 'as.document',
      status: 'fail',
      title,
      message: `${missing.join(' and ')} missing: the authorization code flow cannot run`,
      fix: `Add ${missing.join(' and ')} to the metadata.`,
      url,
      spec,
    })
    return
  }
  ctx.report({
    id: 'as.document',
    status: 'pass',
    title,
    message: `authorization_endpoint ${printable(json['authorization_endpoint'])}, token_endpoint ${printable(json['token_endpoint'])}`,
    url,
    spec,
  })
}
