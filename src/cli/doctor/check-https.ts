/**
 * Every URL on the authorization path uses TLS: the MCP endpoint, the metadata, the issuer and
 * the endpoints that carry codes, tokens and secrets. Plain `http` on loopback is the
 * local-development exception and a warning; anywhere else it is a failure.
 *
 * @module
 */
import { isLoopbackHost } from '../../protocol/resource.js'
import type { DoctorContext } from './context.js'
import { printable } from './finding.js'
import { SPEC } from './spec.js'

const AS_ENDPOINTS = [
  'authorization_endpoint',
  'token_endpoint',
  'registration_endpoint',
  'jwks_uri',
  'revocation_endpoint',
  'introspection_endpoint',
] as const

/** The URLs on the authorization path, each with what it is. */
function collectUrls(ctx: DoctorContext): Array<{ role: string; url: string }> {
  const urls = [{ role: 'MCP endpoint', url: ctx.mcpUrl }]
  const { challenge, prm } = ctx.state
  if (challenge?.resource_metadata !== undefined)
    urls.push({ role: 'resource_metadata', url: challenge.resource_metadata })
  if (prm !== undefined) {
    urls.push({ role: 'PRM URL', url: prm.url }, { role: 'PRM resource', url: prm.document.resource })
  }
  for (const server of ctx.state.authorizationServers) {
    urls.push({ role: 'issuer', url: server.issuer })
    for (const name of AS_ENDPOINTS) {
      const value = server.metadata?.[name]
      if (typeof value === 'string') urls.push({ role: name, url: value })
    }
  }
  return urls
}

function transport(url: string): 'https' | 'loopback' | 'insecure' | 'other' {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return 'other'
  }
  if (parsed.protocol === 'https:') return 'https'
  if (parsed.protocol !== 'http:') return 'other'
  return isLoopbackHost(parsed.hostname) ? 'loopback' : 'insecure'
}

/**
 * @see [OAuth 2.1 §1.5](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-1.5)
 * @see [MCP Authorization: Communication Security](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#communication-security)
 */
export function checkHttps(ctx: DoctorContext): void {
  const title = 'Every URL uses https'
  const spec = [SPEC.mcpTls, SPEC.oauth21Tls]
  // Grouped by origin: one deployment usually has one or two, each with many URLs.
  const insecure = new Map<string, string[]>()
  const loopback = new Map<string, string[]>()
  const seen = new Set<string>()
  for (const { role, url } of collectUrls(ctx)) {
    if (seen.has(url)) continue
    seen.add(url)
    const kind = transport(url)
    if (kind !== 'insecure' && kind !== 'loopback') continue
    const group = kind === 'insecure' ? insecure : loopback
    const origin = new URL(url).origin
    group.set(origin, [...(group.get(origin) ?? []), role])
  }
  const count = seen.size
  const list = (group: Map<string, string[]>) =>
    [...group].map(([origin, roles]) => `${printable(origin)} (${roles.join(', ')})`).join('; ')
  if (insecure.size > 0) {
    ctx.report({
      id: 'https',
      status: 'fail',
      title,
      message: `plain http: ${list(insecure)}`,
      fix: 'Serve these over https (put a TLS-terminating proxy in front), and publish the https URLs.',
      spec,
    })
  } else if (loopback.size > 0) {
    ctx.report({
      id: 'https',
      status: 'warn',
      title,
      message: `plain http on loopback (fine for local development only): ${list(loopback)}`,
      fix: 'Deploy behind https; http is acceptable only for a server on this machine.',
      spec,
    })
  } else {
    ctx.report({
      id: 'https',
      status: 'pass',
      title,
      message: `${count} URL${count === 1 ? '' : 's'}, all https`,
      spec,
    })
  }
}
