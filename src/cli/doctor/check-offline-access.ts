/**
 * `offline_access` is not a resource's requirement: it does not belong in the PRM
 * `scopes_supported` or the challenge's `scope`, where it would make every client ask for
 * refresh tokens.
 *
 * @module
 */
import { parseScope } from '../../protocol/scope.js'
import type { DoctorContext } from './context.js'
import { SPEC } from './spec.js'

/**
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) SEP-2207
 */
export function checkOfflineAccess(ctx: DoctorContext): void {
  const where: string[] = []
  if (ctx.state.prm?.document.scopes_supported?.includes('offline_access'))
    where.push('the PRM scopes_supported')
  let challenged: string[] = []
  try {
    challenged = parseScope(ctx.state.challenge?.scope)
  } catch {
    // Already reported as a malformed scope.
  }
  if (challenged.includes('offline_access')) where.push('the challenge’s scope')
  if (ctx.state.prm === undefined && ctx.state.challenge === undefined) return
  const title = 'offline_access is not asked of clients by the resource'
  const spec = [SPEC.mcp2026OfflineAccess, SPEC.mcpScopeSelection]
  if (where.length === 0) {
    ctx.report({
      id: 'prm.offline-access',
      status: 'pass',
      title,
      message: 'offline_access is neither in scopes_supported nor in the challenge',
      spec,
    })
    return
  }
  ctx.report({
    id: 'prm.offline-access',
    status: 'warn',
    title,
    message: `offline_access is in ${where.join(' and ')}`,
    fix: 'Remove offline_access from the resource’s scopes; list it in the authorization server’s scopes_supported so clients that want refresh tokens can ask.',
    ...(ctx.state.prm === undefined ? {} : { url: ctx.state.prm.url }),
    spec,
  })
}
