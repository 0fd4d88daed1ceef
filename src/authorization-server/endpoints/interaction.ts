/**
 * The login and consent form POSTs. Each carries only the transaction id and a CSRF token bound to
 * the browser's cookie; completing a transaction re-validates everything against the client's
 * current registration (anchors S8, S15, S17).
 *
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { authorizationErrorRedirect, issueCodeRedirect } from '../authorization-response.js'
import { checkRedirectUri } from '../checks/redirect-uri.js'
import { findResource } from '../checks/resource.js'
import { grantConsent } from '../consent.js'
import type { Client, ServerContext } from '../context.js'
import { AuthorizationPageError } from '../errors.js'
import { readForm } from '../http.js'
import type { ResolvedResource } from '../options.js'
import { renderConsent, renderError, renderLogin, withHeaders } from '../render.js'
import { type AuthorizationTransaction, transactionFromJson } from '../transaction.js'
import { currentUser } from './authorize.js'

const MAX_LOGIN_ATTEMPTS = 5

function expired(): Response {
  return renderError(
    400,
    'Request expired',
    'This sign-in request has expired or was already used. Start again from the application.',
  )
}

function forbidden(): Response {
  return renderError(
    403,
    'Request refused',
    'This form was not submitted from this browser’s sign-in page. Start again from the application.',
  )
}

/** Reads the form and checks the CSRF token against the cookie and the transaction. */
async function readInteraction(
  ctx: ServerContext,
  request: Request,
): Promise<{ params: Map<string, string>; id: string; tx: AuthorizationTransaction } | Response> {
  let params: Map<string, string>
  try {
    params = (await readForm(request)).params
  } catch {
    return renderError(400, 'Invalid request', 'The form could not be read.')
  }
  const id = params.get('transaction')
  if (id === undefined || id.length > 128) return expired()
  if (!(await ctx.csrf.verify(request, id, params.get('csrf')))) return forbidden()
  const tx = transactionFromJson(await ctx.store.transactions.get(id, ctx.now()))
  if (tx === undefined) return expired()
  return { params, id, tx }
}

async function clientOf(ctx: ServerContext, tx: AuthorizationTransaction): Promise<Client | undefined> {
  try {
    return await ctx.findClient(tx.client_id)
  } catch {
    return undefined
  }
}

/** Handles the login form POST (built-in login only). */
export async function handleLogin(ctx: ServerContext, request: Request): Promise<Response> {
  if (!('authenticate' in ctx.login)) return renderError(404, 'Not found', 'There is nothing here.')
  const read = await readInteraction(ctx, request)
  if (read instanceof Response) return read
  const { params, id, tx } = read
  if (tx.stage !== 'login') return expired()
  const client = await clientOf(ctx, tx)
  if (client === undefined) return expired()
  const username = params.get('username') ?? ''
  const password = params.get('password') ?? ''
  const user =
    username === '' || password === '' || username.length > 256 || password.length > 1024
      ? undefined
      : await ctx.login.authenticate({ username, password })
  const now = ctx.now()
  if (user === undefined) {
    ctx.audit({ type: 'login.failed', at: now, client_id: tx.client_id })
    const attempts = tx.attempts + 1
    if (attempts >= MAX_LOGIN_ATTEMPTS) {
      await ctx.store.transactions.consume(id, now)
      return renderError(
        429,
        'Too many attempts',
        'Too many failed sign-in attempts. Start again from the application.',
      )
    }
    await ctx.store.transactions.update(id, { attempts }, now)
    return renderLogin(ctx, request, id, client, {
      status: 401,
      error: 'The username or password is not correct.',
      ...(username.length <= 256 ? { username } : {}),
    })
  }
  ctx.audit({ type: 'login.succeeded', at: now, subject: user.subject, client_id: tx.client_id })
  const patch = {
    stage: 'consent',
    subject: user.subject,
    auth_time: now,
    ...(user.name === undefined ? {} : { name: user.name }),
  }
  if (!(await ctx.store.transactions.update(id, patch, now))) return expired()
  const resource = findResource(ctx.resources, tx.resource)
  if (resource === undefined) return expired()
  const sessionCookie = await ctx.session.issue(user, now)
  return renderConsent(ctx, request, {
    transactionId: id,
    client,
    redirectUri: tx.redirect_uri,
    resource,
    scopes: tx.scopes,
    user,
    extraCookies: [sessionCookie],
  })
}

/** Re-validates a transaction against the client's current registration (S8, S17). */
async function revalidate(
  ctx: ServerContext,
  tx: AuthorizationTransaction,
): Promise<{ client: Client; redirectUri: string; resource: ResolvedResource } | Response> {
  const client = await clientOf(ctx, tx)
  if (client === undefined)
    return renderError(400, 'Unknown application', 'This application is no longer registered here.')
  let redirectUri: string
  try {
    redirectUri = checkRedirectUri(client, tx.redirect_uri)
  } catch (error) {
    if (error instanceof AuthorizationPageError) return renderError(error.status, error.title, error.message)
    throw error
  }
  const resource = findResource(ctx.resources, tx.resource)
  if (resource === undefined || !tx.scopes.every((s) => resource.scopes.has(s))) {
    return authorizationErrorRedirect(
      ctx,
      redirectUri,
      new OAuthError('invalid_scope', 'the request is no longer valid'),
      tx.state,
      303,
    )
  }
  return { client, redirectUri, resource }
}

/** Handles the consent form POST: approve (code, or the upstream login) or deny (`access_denied`). */
export async function handleConsent(ctx: ServerContext, request: Request): Promise<Response> {
  const read = await readInteraction(ctx, request)
  if (read instanceof Response) return read
  const { params, id, tx } = read
  const upstream = 'upstream' in ctx.login ? ctx.login.upstream : undefined
  if (tx.stage !== 'consent' || (tx.subject === undefined && upstream === undefined)) return expired()
  const decision = params.get('decision')
  if (decision !== 'approve' && decision !== 'deny')
    return renderError(400, 'Invalid request', 'Choose Allow or Deny.')
  // The consent belongs to the browser's signed-in user, not to whoever holds the transaction id.
  // (Before an upstream login nobody is signed in yet; the CSRF cookie binds the browser.)
  if (tx.subject !== undefined) {
    const user = await currentUser(ctx, request)
    if (user === undefined || user.subject !== tx.subject) return forbidden()
  }
  const now = ctx.now()
  const remember = ctx.rememberConsent && params.get('remember') === 'on'

  if (upstream !== undefined && decision === 'approve') {
    const checked = await revalidate(ctx, tx)
    if (checked instanceof Response) return checked
    // The transaction waits for the provider's callback; the user is known only then.
    if (!(await ctx.store.transactions.update(id, { stage: 'upstream', remember }, now))) return expired()
    return upstream.begin({ transactionId: id })
  }

  // Single use: of two concurrent submissions exactly one proceeds.
  const consumed = transactionFromJson(await ctx.store.transactions.consume(id, now))
  if (consumed === undefined || consumed.stage !== 'consent') return expired()
  const checked = await revalidate(ctx, consumed)
  if (checked instanceof Response) return checked
  const { client, redirectUri, resource } = checked
  if (decision === 'deny') {
    if (tx.subject !== undefined) {
      ctx.audit({
        type: 'consent.denied',
        at: now,
        subject: tx.subject,
        client_id: client.client_id,
        resource: resource.uri,
        scopes: consumed.scopes,
      })
    }
    return authorizationErrorRedirect(
      ctx,
      redirectUri,
      new OAuthError('access_denied', 'the user denied the request'),
      consumed.state,
      303,
    )
  }
  const subject = tx.subject!
  await grantConsent(ctx, { subject, client, resource, redirectUri, scopes: consumed.scopes }, now, {
    save: remember,
    remembered: false,
  })
  return issueCodeRedirect(ctx, { ...consumed, redirect_uri: redirectUri, subject }, 303)
}

/**
 * Handles the upstream provider's callback (upstream login only): the login hook checks the
 * callback and says who the user is; the transaction is then completed like an approved consent,
 * re-validated against the client's current registration.
 */
export async function handleUpstreamCallback(ctx: ServerContext, request: Request): Promise<Response> {
  if (!('upstream' in ctx.login)) return renderError(404, 'Not found', 'There is nothing here.')
  const outcome = await ctx.login.upstream.complete(request)
  if (outcome instanceof Response) return outcome
  const withCookies = (response: Response, extra: string[] = []): Response =>
    withHeaders(
      response,
      response.status,
      [...outcome.setCookies, ...extra].map((c) => ['set-cookie', c]),
    )
  const upstream = ctx.login.upstream
  // Whatever the provider gave for a grant that will not be issued is dropped.
  const abandon = async (response: Response): Promise<Response> => {
    if ('grantId' in outcome) await upstream.discard(outcome.grantId)
    return withCookies(response)
  }
  const now = ctx.now()
  const tx = transactionFromJson(await ctx.store.transactions.consume(outcome.transactionId, now))
  if (tx === undefined || tx.stage !== 'upstream') return abandon(expired())
  const checked = await revalidate(ctx, tx)
  if (checked instanceof Response) return abandon(checked)
  const { client, redirectUri, resource } = checked
  if ('error' in outcome) {
    return withCookies(
      authorizationErrorRedirect(
        ctx,
        redirectUri,
        new OAuthError(outcome.error, 'the sign-in did not complete'),
        tx.state,
        302,
      ),
    )
  }
  const { user } = outcome
  // A remembered consent was given by one user; a different one signing in upstream has not consented.
  if (tx.remembered_subject !== undefined && tx.remembered_subject !== user.subject) {
    return abandon(
      authorizationErrorRedirect(
        ctx,
        redirectUri,
        new OAuthError('access_denied', 'a different account signed in'),
        tx.state,
        302,
      ),
    )
  }
  ctx.audit({ type: 'login.succeeded', at: now, subject: user.subject, client_id: client.client_id })
  await grantConsent(ctx, { subject: user.subject, client, resource, redirectUri, scopes: tx.scopes }, now, {
    save: tx.remember === true,
    remembered: tx.remembered_subject !== undefined,
  })
  const session = await ctx.session.issue(user, now)
  const response = await issueCodeRedirect(
    ctx,
    { ...tx, redirect_uri: redirectUri, subject: user.subject, auth_time: now },
    // The callback is a GET: 302, like every redirect of the authorization endpoint.
    302,
    outcome.grantId,
  )
  return withCookies(response, [session])
}
