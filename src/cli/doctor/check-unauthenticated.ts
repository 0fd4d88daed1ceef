/**
 * Step 1: an MCP request without a token gets `401` with a parseable `WWW-Authenticate: Bearer`
 * challenge, ideally carrying `scope`.
 *
 * @module
 */
import { parseScope } from '../../protocol/scope.js'
import { findBearerChallenge, parseWwwAuthenticate } from '../../protocol/www-authenticate.js'
import type { DoctorContext } from './context.js'
import { printable } from './finding.js'
import { describeError, fixForError } from './http.js'
import { SPEC } from './spec.js'

/** The body of the request: an `initialize`, what every MCP session starts with. */
const INITIALIZE = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: {
    protocolVersion: '2025-11-25',
    capabilities: {},
    clientInfo: { name: 'portcullis-doctor', version: '1' },
  },
})

/**
 * Sends `initialize` without a token and checks the `401` and its challenge. Returns false when
 * the server could not be reached at all (nothing after this step can be checked).
 *
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) a request without a token gets 401
 * @see [RFC 9110 §15.5.2](https://www.rfc-editor.org/rfc/rfc9110#section-15.5.2) a 401 carries `WWW-Authenticate`
 * @see [MCP Authorization: Scope Selection Strategy](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-selection-strategy)
 */
export async function checkUnauthenticated(ctx: DoctorContext): Promise<boolean> {
  const url = ctx.mcpUrl
  let response: Response
  try {
    // No `Origin`: MCP servers refuse unknown origins with 403 (DNS-rebinding protection), which
    // is right and not what this step is about.
    response = await ctx.fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: INITIALIZE,
    })
  } catch (error) {
    const { code, message } = describeError(error)
    const fix = fixForError(code)
    ctx.report({
      id: 'mcp.unauthenticated',
      status: 'fail',
      title: 'The MCP endpoint answers',
      message: `POST ${url} failed: ${code}: ${message}`,
      ...(fix === undefined ? {} : { fix }),
      url,
      spec: [SPEC.mcpTokenUsage],
    })
    return false
  }
  await response.body?.cancel().catch(() => {})
  const { status } = response
  ctx.state.unauthenticatedStatus = status
  if (status !== 401) {
    ctx.report({
      id: 'mcp.unauthenticated',
      status: 'fail',
      title: 'A request without a token gets 401',
      message:
        status >= 200 && status < 300
          ? `POST ${url} without a token got ${status}: the endpoint is not protected`
          : `POST ${url} without a token got ${status}, not 401`,
      fix: 'Answer every MCP request that carries no access token with 401 and a WWW-Authenticate: Bearer challenge (portcullis/resource-server does this).',
      url,
      spec: [SPEC.rfc6750Errors, SPEC.mcpTokenUsage],
    })
    return true
  }
  ctx.report({
    id: 'mcp.unauthenticated',
    status: 'pass',
    title: 'A request without a token gets 401',
    message: `POST ${url} without a token got 401`,
    url,
    spec: [SPEC.rfc6750Errors, SPEC.mcpTokenUsage],
  })
  checkChallenge(ctx, response.headers)
  return true
}

function checkChallenge(ctx: DoctorContext, headers: Headers): void {
  const url = ctx.mcpUrl
  const header = headers.get('www-authenticate')
  const spec = [SPEC.rfc9110Status401, SPEC.rfc6750Challenge, SPEC.rfc9728Header]
  if (header === null) {
    ctx.report({
      id: 'challenge.bearer',
      status: 'fail',
      title: 'The 401 carries a WWW-Authenticate: Bearer challenge',
      message: 'the 401 has no WWW-Authenticate header',
      fix: 'Send WWW-Authenticate: Bearer resource_metadata="<PRM URL>", scope="<scopes>" with every 401.',
      url,
      spec,
    })
    return
  }
  let bearer: ReturnType<typeof findBearerChallenge>
  try {
    bearer = findBearerChallenge(parseWwwAuthenticate(headers))
  } catch (error) {
    ctx.report({
      id: 'challenge.bearer',
      status: 'fail',
      title: 'The 401 carries a WWW-Authenticate: Bearer challenge',
      message: `WWW-Authenticate does not parse: ${describeError(error).message}`,
      fix: 'Quote parameter values that are not tokens, escape " and \\ inside them, and name each parameter once (RFC 9110 §11.2).',
      url,
      spec: [SPEC.rfc9110WwwAuthenticate, ...spec],
    })
    return
  }
  if (bearer === undefined) {
    ctx.report({
      id: 'challenge.bearer',
      status: 'fail',
      title: 'The 401 carries a WWW-Authenticate: Bearer challenge',
      message: `WWW-Authenticate has no Bearer challenge: ${printable(header)}`,
      fix: 'Add a Bearer challenge: WWW-Authenticate: Bearer resource_metadata="<PRM URL>", scope="<scopes>".',
      url,
      spec,
    })
    return
  }
  ctx.state.challenge = bearer
  ctx.report({
    id: 'challenge.bearer',
    status: 'pass',
    title: 'The 401 carries a WWW-Authenticate: Bearer challenge',
    message: `WWW-Authenticate: ${printable(header, 240)}`,
    url,
    spec,
  })
  checkChallengeScope(ctx, bearer.scope)
}

function checkChallengeScope(ctx: DoctorContext, scope: string | undefined): void {
  const title = 'The challenge names the scopes needed (scope)'
  const spec = [SPEC.rfc6750Challenge, SPEC.mcpScopeSelection]
  if (scope === undefined) {
    ctx.report({
      id: 'challenge.scope',
      status: 'warn',
      title,
      message: 'the Bearer challenge has no scope parameter; clients fall back to the PRM scopes_supported',
      fix: 'Add scope="<the scopes this request needs>" to the challenge so clients ask for the least privilege.',
      url: ctx.mcpUrl,
      spec,
    })
    return
  }
  try {
    const scopes = parseScope(scope)
    ctx.report({
      id: 'challenge.scope',
      status: 'pass',
      title,
      message: scopes.length === 0 ? 'scope is present and empty' : `scope="${printable(scopes.join(' '))}"`,
      url: ctx.mcpUrl,
      spec,
    })
  } catch (error) {
    ctx.report({
      id: 'challenge.scope',
      status: 'fail',
      title,
      message: `scope is not a list of scope tokens: ${describeError(error).message}`,
      fix: 'Send space-separated scope tokens (RFC 6749 §3.3): printable ASCII without " or \\.',
      url: ctx.mcpUrl,
      spec: [...spec, { label: 'RFC 6749 §3.3', url: 'https://www.rfc-editor.org/rfc/rfc6749#section-3.3' }],
    })
  }
}
