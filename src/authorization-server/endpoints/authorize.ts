/**
 * The authorization endpoint, as two tables of one-rule checks:
 * - checks that fail with a local error page (the client and its redirect URI are not trusted yet,
 *   so NEVER a redirect: anchors S6, CVE-2025-4143);
 * - checks that fail with an error redirect to the now-validated redirect URI, `state` and `iss`
 *   included.
 *
 * Then the user: a login page, a consent page, or (remembered consent on a same-origin or direct
 * navigation only, anchors S16) the code right away. The request is kept server-side behind an opaque
 * transaction id.
 *
 * @see [RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1)
 * @see [OAuth 2.1 §4.1.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.1)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { randomToken } from '../../protocol/random.js'
import { authorizationErrorRedirect, issueCodeRedirect } from '../authorization-response.js'
import { checkPkce } from '../checks/pkce.js'
import { checkRedirectUri } from '../checks/redirect-uri.js'
import { resolveResource } from '../checks/resource.js'
import { resolveScopes } from '../checks/scope.js'
import { grantConsent, isConsentRemembered } from '../consent.js'
import type { Client, ServerContext } from '../context.js'
import { AuthorizationPageError } from '../errors.js'
import { parseParams } from '../http.js'
import type { LoginUser, ResolvedResource } from '../options.js'
import { renderConsent, renderError, renderLogin } from '../render.js'
import { type AuthorizationTransaction, transactionToJson } from '../transaction.js'

const MAX_PARAM_LENGTH = 4096

/** What the checks learn about a request. */
interface AuthorizeState {
  params: Map<string, string>
  multi: Map<string, string[]>
  client?: Client
  redirectUri?: string
  challenge?: string
  resource?: ResolvedResource
  scopes?: string[]
}

type Check = (ctx: ServerContext, state: AuthorizeState) => void | Promise<void>

function badRequest(message: string): AuthorizationPageError {
  return new AuthorizationPageError(400, 'Invalid request', message)
}

/** RFC 6749 §3.1: no repeated parameters; bounded lengths. */
const checkParameters: Check = (_ctx, s) => {
  for (const value of [...s.params.values(), ...[...s.multi.values()].flat()]) {
    if (value.length > MAX_PARAM_LENGTH) throw badRequest('A parameter of the request is too long.')
  }
}

/** The client must be known (pre-registered, registered, or a valid metadata document). */
const identifyClient: Check = async (ctx, s) => {
  const clientId = s.params.get('client_id')
  if (clientId === undefined) throw badRequest('The request does not name an application (client_id).')
  let client: Client | undefined
  try {
    client = await ctx.findClient(clientId)
  } catch (error) {
    if (!(error instanceof OAuthError)) throw error
    ctx.audit({
      type: 'client.rejected',
      at: ctx.now(),
      endpoint: 'authorize',
      client_id: clientId,
      reason: 'metadata document',
    })
    throw new AuthorizationPageError(
      400,
      'Unknown application',
      'The application’s metadata document could not be used.',
    )
  }
  if (client === undefined) {
    ctx.audit({
      type: 'client.rejected',
      at: ctx.now(),
      endpoint: 'authorize',
      client_id: clientId,
      reason: 'unknown client',
    })
    throw new AuthorizationPageError(400, 'Unknown application', 'This application is not registered here.')
  }
  s.client = client
}

/** The redirect URI must be registered for this client (exact match; any port on loopback IPs). */
const matchRedirectUri: Check = (ctx, s) => {
  try {
    s.redirectUri = checkRedirectUri(s.client!, s.params.get('redirect_uri'))
  } catch (error) {
    ctx.audit({
      type: 'client.rejected',
      at: ctx.now(),
      endpoint: 'authorize',
      client_id: s.client!.client_id,
      reason: 'redirect_uri not registered',
    })
    throw error
  }
}

/** Local checks: failure renders an error page. */
const LOCAL_CHECKS: readonly Check[] = [checkParameters, identifyClient, matchRedirectUri]

const checkResponseType: Check = (_ctx, s) => {
  const responseType = s.params.get('response_type')
  if (responseType === undefined) throw new OAuthError('invalid_request', 'response_type is required')
  if (responseType !== 'code')
    throw new OAuthError('unsupported_response_type', 'only response_type=code is supported')
}

const checkGrantAllowed: Check = (_ctx, s) => {
  if (!s.client!.grantTypes.includes('authorization_code')) {
    throw new OAuthError(
      'unauthorized_client',
      'the client is not registered for the authorization code grant',
    )
  }
}

const checkPkceParams: Check = (_ctx, s) => {
  s.challenge = checkPkce(s.params.get('code_challenge'), s.params.get('code_challenge_method'))
}

const checkResourceParam: Check = (ctx, s) => {
  s.resource = resolveResource(ctx.resources, s.multi.get('resource'), ctx.defaultResource)
}

const checkScopeParam: Check = (_ctx, s) => {
  s.scopes = resolveScopes(s.resource!, s.params.get('scope'), s.client!)
}

/** Checks answered with an error redirect. */
const REDIRECT_CHECKS: readonly Check[] = [
  checkResponseType,
  checkGrantAllowed,
  checkPkceParams,
  checkResourceParam,
  checkScopeParam,
]

/**
 * Remembered consent rides only a navigation the user started here or typed: a cross-site page
 * must not be able to get a code silently (anchors S16; FastMCP GHSA-6x8h-498w-gv8c).
 *
 * @see [Fetch Metadata: Sec-Fetch-Site](https://www.w3.org/TR/fetch-metadata/#sec-fetch-site-header)
 */
export function isSameOriginOrDirect(request: Request): boolean {
  const site = request.headers.get('sec-fetch-site')
  return site === 'same-origin' || site === 'none'
}

/**
 * The signed-in user, from the host application or the login session cookie (set by the built-in
 * login form, or after an upstream login).
 */
export async function currentUser(ctx: ServerContext, request: Request): Promise<LoginUser | undefined> {
  if ('currentUser' in ctx.login) return ctx.login.currentUser(request)
  return ctx.session.read(request, ctx.now())
}

/** Handles `GET /authorize`. */
export async function handleAuthorize(ctx: ServerContext, request: Request): Promise<Response> {
  const state: AuthorizeState = { params: new Map(), multi: new Map() }
  try {
    const parsed = parseParams(new URL(request.url).searchParams, ['resource'])
    state.params = parsed.params
    state.multi = parsed.multi
  } catch {
    return renderError(400, 'Invalid request', 'A parameter of the request is repeated.')
  }
  try {
    for (const check of LOCAL_CHECKS) await check(ctx, state)
  } catch (error) {
    if (error instanceof AuthorizationPageError) return renderError(error.status, error.title, error.message)
    throw error
  }
  const client = state.client!
  const redirectUri = state.redirectUri!
  const oauthState = state.params.get('state')
  try {
    for (const check of REDIRECT_CHECKS) await check(ctx, state)
  } catch (error) {
    if (error instanceof OAuthError)
      return authorizationErrorRedirect(ctx, redirectUri, error, oauthState, 302)
    throw error
  }
  const resource = state.resource!
  const scopes = state.scopes!

  const user = await currentUser(ctx, request)
  if (user === undefined && 'currentUser' in ctx.login) {
    if (ctx.login.loginUrl === undefined) {
      return renderError(401, 'Sign-in required', 'Sign in to this site first, then try again.')
    }
    return new Response(null, {
      status: 302,
      headers: { location: ctx.login.loginUrl(request.url), 'cache-control': 'no-store' },
    })
  }

  const now = ctx.now()
  const tx: AuthorizationTransaction = {
    client_id: client.client_id,
    redirect_uri: redirectUri,
    code_challenge: state.challenge!,
    resource: resource.uri,
    scopes,
    // Upstream login: consent comes first, the user is known only after the provider's callback.
    stage: user === undefined && !('upstream' in ctx.login) ? 'login' : 'consent',
    attempts: 0,
  }
  if (oauthState !== undefined) tx.state = oauthState
  if (user !== undefined) {
    tx.subject = user.subject
    if (user.name !== undefined) tx.name = user.name
  }

  if (user !== undefined && ctx.rememberConsent && isSameOriginOrDirect(request)) {
    const consent = { subject: user.subject, client, resource, redirectUri, scopes }
    if (await isConsentRemembered(ctx, consent, now)) {
      if ('upstream' in ctx.login) {
        // Straight to the provider; the remembered consent holds only if it signs in the same user.
        const transactionId = randomToken(32)
        await ctx.store.transactions.create(
          transactionId,
          transactionToJson({ ...tx, stage: 'upstream', remembered_subject: user.subject }),
          now + ctx.lifetimes.transaction,
        )
        return ctx.login.upstream.begin({ transactionId })
      }
      await grantConsent(ctx, consent, now, { save: false, remembered: true })
      return issueCodeRedirect(ctx, { ...tx, subject: user.subject }, 302)
    }
  }

  const transactionId = randomToken(32)
  await ctx.store.transactions.create(transactionId, transactionToJson(tx), now + ctx.lifetimes.transaction)
  if (tx.stage === 'login') return renderLogin(ctx, request, transactionId, client)
  return renderConsent(ctx, request, { transactionId, client, redirectUri, resource, scopes, user })
}
