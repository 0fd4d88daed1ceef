/**
 * `--login`: the full flow with Portcullis's own client, as `connect` runs it (discovery, Client
 * ID Metadata Document or registration, the browser login with PKCE and the `state`/`iss` checks,
 * the token), then an authenticated MCP `initialize` and `tools/list`, and the token's audience.
 * The credentials live in memory and are gone when doctor ends.
 *
 * @module
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { decodeJwt } from 'jose'
import { createMemoryCredentialStore } from '../../client/credential-store.js'
import { ClientError } from '../../client/errors.js'
import type { McpAuthClient, McpAuthEvent, McpAuthStatus } from '../../client/flow.js'
import type { RedirectHandler } from '../../client/redirect.js'
import { createNodeMcpAuthClient } from '../../node/client/node-auth-client.js'
import { createLoopbackRedirectHandler } from '../../node/client/redirect-handler.js'
import { audienceMatches } from '../../protocol/resource.js'
import type { DoctorContext, DoctorLoginOptions } from './context.js'
import { type Finding, printable } from './finding.js'
import { describeError } from './http.js'
import { SPEC } from './spec.js'

/** A token the MCP server refused (401), or found short of scope (403). */
interface Refusal {
  status: number
  challenge: string | null
}

/** What the MCP server answered to the token. */
interface Session {
  refusals: Refusal[]
}

const TITLES = {
  'login.flow': 'A user can log in (authorization code flow with PKCE)',
  'login.initialize': 'An MCP initialize with the token is accepted',
  'login.tools-list': 'An MCP tools/list with the token is accepted',
  'login.audience': 'The token is issued for this MCP server (audience)',
} as const

type LoginCheck = keyof typeof TITLES

const LOGIN_CHECKS = Object.keys(TITLES) as LoginCheck[]

function skipped(id: LoginCheck, reason: string): Finding {
  return {
    id,
    status: 'skip',
    title: TITLES[id],
    message: `not checked: ${reason}`,
    spec: [SPEC.mcpFlowSteps],
  }
}

/** Reports the login checks (all by default) as not made, and why. */
export function skipLogin(
  ctx: DoctorContext,
  reason: string,
  ids: readonly LoginCheck[] = LOGIN_CHECKS,
): void {
  for (const id of ids) ctx.report(skipped(id, reason))
}

/** Rejects a second browser login: doctor logs in once, and a refused token is a finding. */
function oneLogin(handler: RedirectHandler): RedirectHandler {
  let used = false
  return {
    start() {
      if (used)
        return Promise.reject(new Error('the server refused the token of the login; doctor logs in once'))
      used = true
      return handler.start()
    },
  }
}

const LOGIN_FIXES: Partial<Record<string, string>> = {
  ERR_REDIRECT:
    'Finish the login in the browser (with --no-browser, open the printed URL). If the authorization server showed an error page, it names the problem.',
  ERR_AUTHORIZATION_DENIED:
    'The authorization server answered the authorization request with an error: check that it accepts loopback redirect URIs (http://127.0.0.1:<port>/...) for native clients, the requested scope and the resource parameter.',
  ERR_STATE_MISMATCH: 'Return the state parameter unchanged in the redirect (OAuth 2.1 §4.1.2).',
  ERR_ISS_MISMATCH:
    'Put iss=<issuer> in every authorization response, spelled exactly as the metadata issuer (RFC 9207 §2).',
  ERR_TOKEN:
    'The token endpoint refused the authorization code: check the PKCE S256 verification, that redirect_uri and resource match the authorization request, and that public clients (token_endpoint_auth_method none) are accepted.',
  ERR_REGISTRATION:
    'Accept registrations of native public clients: loopback redirect URIs on any port, token_endpoint_auth_method none (RFC 7591).',
  ERR_NO_CLIENT_ID:
    'Support Client ID Metadata Documents (and pass --client-metadata-url) or Dynamic Client Registration.',
}

/** The transport of the MCP requests: records each answer that refuses the token sent. */
function watchingFetch(session: Session): typeof fetch {
  return async (input, init) => {
    const response = await globalThis.fetch(input, init)
    const sentToken = new Headers(init?.headers).has('authorization')
    if (sentToken && (response.status === 401 || response.status === 403)) {
      session.refusals.push({ status: response.status, challenge: response.headers.get('www-authenticate') })
    }
    return response
  }
}

/**
 * Logs in, then uses the token. Reports `login.flow`, `login.initialize`, `login.tools-list` and
 * `login.audience`; after a failure the later ones are `skip`.
 *
 * @see [MCP Authorization: Authorization Flow Steps](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-flow-steps)
 * @see [MCP Authorization: Token Audience Binding and Validation](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-audience-binding-and-validation)
 */
export async function checkLogin(
  ctx: DoctorContext,
  options: DoctorLoginOptions,
  step: (title: string) => void = () => {},
): Promise<void> {
  const session: Session = { refusals: [] }
  const events: McpAuthEvent[] = []
  let client: McpAuthClient
  let status: McpAuthStatus
  step('Logging in with the authorization code flow (browser)')
  try {
    client = createNodeMcpAuthClient({
      ...options,
      credentialStore: createMemoryCredentialStore(),
      fetch: watchingFetch(session),
      redirect: oneLogin(options.redirect ?? createLoopbackRedirectHandler()),
      onEvent(event) {
        events.push(event)
        options.onEvent?.(event)
      },
    })
    status = await client.login(ctx.mcpUrl)
  } catch (error) {
    const { code, message } = describeError(error)
    const fix =
      error instanceof ClientError && error.oauthError === 'access_denied'
        ? 'The login or the consent was declined: run doctor again and approve, with an account that may use this server.'
        : LOGIN_FIXES[code]
    ctx.report({
      id: 'login.flow',
      status: 'fail',
      title: TITLES['login.flow'],
      message: `the login failed: ${code}: ${message}`,
      fix: fix ?? 'See the failed checks above; they name what the client refused.',
      url: ctx.mcpUrl,
      spec: [SPEC.mcpFlowSteps, SPEC.oauth21Code],
    })
    skipLogin(ctx, 'the login failed', LOGIN_CHECKS.slice(1))
    return
  }
  const issChecked = ctx.state.authorizationServers.some(
    (server) =>
      server.issuer === status.issuer &&
      server.metadata?.authorization_response_iss_parameter_supported === true,
  )
  ctx.report(loggedIn(status, events, options.clientMetadataUrl, issChecked))

  step('Sending initialize and tools/list with the token')
  const accepted = await checkSession(ctx, client, session, status)
  await checkAudience(ctx, client, status, accepted)
}

function loggedIn(
  status: McpAuthStatus,
  events: readonly McpAuthEvent[],
  clientMetadataUrl: string | undefined,
  issChecked: boolean,
): Finding {
  const registration = events.find((event) => event.type === 'registration')
  const client =
    registration !== undefined
      ? `registered (${registration.method === 'dynamic' ? 'Dynamic Client Registration' : registration.method})`
      : clientMetadataUrl !== undefined
        ? `client id ${printable(clientMetadataUrl)} (Client ID Metadata Document)`
        : 'client known to the server'
  const parts = [
    `logged in at ${printable(status.issuer ?? 'the authorization server')}`,
    client,
    `scope ${status.scope === undefined ? '(none named)' : printable(status.scope)}`,
    status.refreshable ? 'with a refresh token' : 'without a refresh token',
  ]
  return {
    id: 'login.flow',
    status: 'pass',
    title: TITLES['login.flow'],
    message: `${parts.join('; ')}; the callback's state${issChecked ? ' and iss (RFC 9207) were' : ' was'} checked`,
    url: status.issuer ?? status.serverUrl,
    spec: [SPEC.mcpFlowSteps, SPEC.oauth21Code, SPEC.mcpPkce],
  }
}

function describeRefusal(refusal: Refusal): string {
  return `HTTP ${refusal.status}${refusal.challenge === null ? '' : `, WWW-Authenticate: ${printable(refusal.challenge)}`}`
}

function refusalFix(refusal: Refusal, status: McpAuthStatus): string {
  return refusal.status === 403
    ? `The scope granted at login (${printable(status.scope ?? 'none')}) does not cover this request: name the scopes that initialize and tools/list need in the 401 challenge's scope.`
    : `Accept the access tokens of ${printable(status.issuer ?? 'the authorization server')} whose audience is ${printable(status.resource ?? 'this server')}: check the token verifier's issuer, audience (the PRM resource) and keys (jwks_uri).`
}

/** `initialize` then `tools/list` through the client's fetch, with the MCP SDK. True when both were accepted. */
async function checkSession(
  ctx: DoctorContext,
  auth: McpAuthClient,
  session: Session,
  status: McpAuthStatus,
): Promise<boolean> {
  const spec = [SPEC.mcpTokenUsage, SPEC.rfc6750Bearer]
  const failed = (id: LoginCheck, error: unknown): void => {
    const refusal = session.refusals[0]
    ctx.report({
      id,
      status: 'fail',
      title: TITLES[id],
      message:
        refusal === undefined
          ? `failed: ${describeError(error).message}`
          : `the server refused the token issued for it: ${describeRefusal(refusal)}`,
      ...(refusal === undefined ? {} : { fix: refusalFix(refusal, status) }),
      url: ctx.mcpUrl,
      spec,
    })
  }
  const mcp = new Client({ name: 'portcullis-doctor', version: '1' })
  try {
    try {
      await mcp.connect(new StreamableHTTPClientTransport(new URL(ctx.mcpUrl), { fetch: auth.fetch }))
    } catch (error) {
      failed('login.initialize', error)
      ctx.report(skipped('login.tools-list', 'initialize failed'))
      return false
    }
    const server = mcp.getServerVersion()
    ctx.report({
      id: 'login.initialize',
      status: 'pass',
      title: TITLES['login.initialize'],
      message: `the server answered${server === undefined ? '' : ` as ${printable(server.name)} ${printable(server.version)}`}`,
      url: ctx.mcpUrl,
      spec,
    })
    try {
      const { tools } = await mcp.listTools()
      ctx.report({
        id: 'login.tools-list',
        status: 'pass',
        title: TITLES['login.tools-list'],
        message: `${tools.length} tool${tools.length === 1 ? '' : 's'}${
          tools.length === 0 ? '' : `: ${printable(tools.map((tool) => tool.name).join(', '), 120)}`
        }`,
        url: ctx.mcpUrl,
        spec,
      })
      return true
    } catch (error) {
      failed('login.tools-list', error)
      return false
    }
  } finally {
    await mcp.close().catch(() => {})
  }
}

/**
 * The token names this server's resource as its audience (RFC 8707), when the client can read
 * it (a JWT). An opaque token is judged by the server's acceptance alone.
 */
async function checkAudience(
  ctx: DoctorContext,
  auth: McpAuthClient,
  status: McpAuthStatus,
  accepted: boolean,
): Promise<void> {
  const title = TITLES['login.audience']
  const spec = [SPEC.mcpAudience, SPEC.rfc8707Resource]
  const resource = status.resource ?? status.serverUrl
  const token = await auth.token(ctx.mcpUrl).catch(() => undefined)
  let aud: unknown
  let readable = false
  if (token !== undefined) {
    try {
      aud = decodeJwt(token.access_token).aud
      readable = true
    } catch {
      // Opaque to the client: only the server can tell what it is bound to.
    }
  }
  if (!readable) {
    ctx.report(
      accepted
        ? {
            id: 'login.audience',
            status: 'pass',
            title,
            message: `the token is opaque to clients; the server accepted the token requested for ${printable(resource)}`,
            url: ctx.mcpUrl,
            spec,
          }
        : skipped('login.audience', 'the server did not accept the token, and it is opaque'),
    )
    return
  }
  const audience = typeof aud === 'string' || Array.isArray(aud) ? (aud as string | string[]) : undefined
  if (audience !== undefined && audienceMatches(audience, resource)) {
    ctx.report({
      id: 'login.audience',
      status: 'pass',
      title,
      message: `aud is ${printable(audience)}: the token is bound to this server${accepted ? ', which accepted it' : ''}`,
      url: ctx.mcpUrl,
      spec,
    })
    return
  }
  ctx.report({
    id: 'login.audience',
    status: audience === undefined ? 'warn' : 'fail',
    title,
    message:
      audience === undefined
        ? `the token has no aud claim: nothing binds it to ${printable(resource)}`
        : `aud is ${printable(audience)}, not ${printable(resource)}: the token is not bound to this server, so another server could replay it${
            accepted ? '; the server accepted it all the same, so it does not check the audience' : ''
          }`,
    fix: 'Issue access tokens whose aud is the resource parameter of the token request (RFC 8707), and have the MCP server accept only tokens with its own resource as audience.',
    url: ctx.mcpUrl,
    spec,
  })
}
