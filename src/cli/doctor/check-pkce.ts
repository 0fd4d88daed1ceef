/**
 * The authorization server advertises PKCE with `S256`; without it MCP clients MUST refuse.
 *
 * @module
 */
import type { DoctorContext } from './context.js'
import { printable } from './finding.js'
import { SPEC } from './spec.js'

/**
 * @see [MCP Authorization: Authorization Code Protection](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-code-protection)
 * @see [RFC 7636 §4.2](https://www.rfc-editor.org/rfc/rfc7636#section-4.2) `S256`
 */
export function checkPkce(ctx: DoctorContext): void {
  for (const { metadata, metadataUrl } of ctx.state.authorizationServers) {
    if (metadata === undefined || metadataUrl === undefined) continue
    const methods = metadata.code_challenge_methods_supported
    const title = 'PKCE S256 is advertised (code_challenge_methods_supported)'
    const spec = [SPEC.mcpPkce, SPEC.rfc8414Metadata, SPEC.rfc7636Pkce]
    if (Array.isArray(methods) && methods.includes('S256')) {
      ctx.report({
        id: 'as.pkce',
        status: 'pass',
        title,
        message: `code_challenge_methods_supported: ${methods.map((m) => printable(m)).join(', ')}`,
        url: metadataUrl,
        spec,
      })
      continue
    }
    ctx.report({
      id: 'as.pkce',
      status: 'fail',
      title,
      message: Array.isArray(methods)
        ? `code_challenge_methods_supported is [${methods.map((m) => printable(m)).join(', ')}], without S256; MCP clients refuse to proceed`
        : 'code_challenge_methods_supported is absent, which means no PKCE support; MCP clients refuse to proceed',
      fix: 'Support PKCE with S256 and publish "code_challenge_methods_supported": ["S256"].',
      url: metadataUrl,
      spec,
    })
  }
}
