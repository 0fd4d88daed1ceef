/**
 * Runs every doctor check in the order a client meets them, and returns the report.
 *
 * @module
 */
import { urlProblem } from '../../protocol/metadata-fields.js'
import { CliError } from '../errors.js'
import { checkAuthorizationServerMetadata } from './check-authorization-server-metadata.js'
import { checkClientRegistration } from './check-client-registration.js'
import { checkCors } from './check-cors.js'
import { checkHttps } from './check-https.js'
import { checkIssParameter } from './check-iss-parameter.js'
import { checkLogin, skipLogin } from './check-login.js'
import { checkOfflineAccess } from './check-offline-access.js'
import { checkPkce } from './check-pkce.js'
import { checkProtectedResourceMetadata } from './check-protected-resource-metadata.js'
import { checkUnauthenticated } from './check-unauthenticated.js'
import { createDoctorContext, type DoctorOptions } from './context.js'
import { type DoctorReport, summarize } from './finding.js'

/**
 * Checks the authorization deployment of the MCP server at `options.mcpUrl`: the unauthenticated
 * 401 and its challenge, the Protected Resource Metadata, each authorization server's metadata,
 * PKCE, client registration, `iss`, https and CORS; with `options.login`, then a full login and
 * authenticated MCP requests.
 *
 * Every request goes through `options.fetch`; pass an SSRF-safe one (the command uses
 * `createSafeFetch`). A failed request is a finding, never an exception.
 *
 * @throws {CliError} `ERR_USAGE` when `mcpUrl` is not an absolute http(s) URL
 * @see [MCP Authorization](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization)
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const problem = urlProblem(options.mcpUrl)
  if (problem !== undefined) {
    throw new CliError('ERR_USAGE', `${options.mcpUrl} is not an http(s) URL: ${problem}`, {
      fix: 'Pass the full URL of the MCP endpoint, e.g. https://mcp.example.com/mcp',
    })
  }
  const ctx = createDoctorContext(options)
  const step = (title: string) => options.onStep?.(title)

  step('Sending an MCP request without a token')
  const reachable = await checkUnauthenticated(ctx)
  if (reachable) {
    step('Looking for the Protected Resource Metadata')
    await checkProtectedResourceMetadata(ctx)
    step('Looking for the authorization server metadata')
    await checkAuthorizationServerMetadata(ctx)
    checkPkce(ctx)
    checkClientRegistration(ctx)
    checkIssParameter(ctx)
  }
  checkHttps(ctx)
  if (reachable) {
    step('Checking CORS on the metadata')
    await checkCors(ctx)
    checkOfflineAccess(ctx)
  }
  if (options.login !== undefined) {
    if (reachable) await checkLogin(ctx, options.login, step)
    else skipLogin(ctx, 'the MCP endpoint did not answer')
  }
  return summarize(options.mcpUrl, ctx.findings)
}
