/**
 * The authorization server sends `iss` in authorization responses and says so
 * (`authorization_response_iss_parameter_supported`), which lets clients detect mix-up attacks.
 *
 * @module
 */
import type { DoctorContext } from './context.js'
import { SPEC } from './spec.js'

/**
 * @see [RFC 9207 §3](https://www.rfc-editor.org/rfc/rfc9207#section-3)
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 */
export function checkIssParameter(ctx: DoctorContext): void {
  for (const { metadata, metadataUrl } of ctx.state.authorizationServers) {
    if (metadata === undefined || metadataUrl === undefined) continue
    const title = 'Authorization responses carry iss (RFC 9207)'
    const spec = [SPEC.rfc9207Metadata, SPEC.rfc9207Validation, SPEC.mcp2026Iss]
    if (metadata.authorization_response_iss_parameter_supported === true) {
      ctx.report({
        id: 'as.iss',
        status: 'pass',
        title,
        message: 'authorization_response_iss_parameter_supported: true',
        url: metadataUrl,
        spec,
      })
      continue
    }
    ctx.report({
      id: 'as.iss',
      status: 'warn',
      title,
      message:
        'authorization_response_iss_parameter_supported is not true: clients cannot tell which server an authorization response came from (mix-up attacks)',
      fix: 'Add iss=<issuer> to every authorization response (success and error) and publish "authorization_response_iss_parameter_supported": true.',
      url: metadataUrl,
      spec,
    })
  }
}
