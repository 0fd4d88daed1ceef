/**
 * The authorization response: a redirect to the client's (already validated) redirect URI with
 * `code` or `error`, `state` echoed, and `iss` always.
 *
 * @see [RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)
 * @see [RFC 9207 §2](https://www.rfc-editor.org/rfc/rfc9207#section-2) `iss` in every authorization response, errors included
 * @module
 */
import type { OAuthError } from '../protocol/errors.js'
import { randomToken } from '../protocol/random.js'
import type { ServerContext } from './context.js'
import { newSecret } from './tokens.js'
import type { AuthorizationTransaction } from './transaction.js'

/**
 * A redirect to `redirectUri` with `params`, `state` and `iss` added to its query. Only ever called
 * with a redirect URI that matched the client's registration.
 */
export function authorizationRedirect(
  ctx: ServerContext,
  redirectUri: string,
  params: Record<string, string>,
  state: string | undefined,
  status: 302 | 303,
): Response {
  const url = new URL(redirectUri)
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value)
  if (state !== undefined) url.searchParams.set('state', state)
  url.searchParams.set('iss', ctx.issuer)
  return new Response(null, {
    status,
    headers: { location: url.href, 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' },
  })
}

/** An error authorization response (RFC 6749 §4.1.2.1). */
export function authorizationErrorRedirect(
  ctx: ServerContext,
  redirectUri: string,
  error: OAuthError,
  state: string | undefined,
  status: 302 | 303,
): Response {
  const params: Record<string, string> = { error: error.code }
  if (error.description !== undefined) params['error_description'] = error.description
  return authorizationRedirect(ctx, redirectUri, params, state, status)
}

/**
 * Records the user's grant and mints a single-use code for it, then answers with the redirect. The
 * grant exists from consent on, so a replayed code can revoke everything issued under it; the code
 * is stored only as its hash, with everything the token endpoint must check against.
 */
export async function issueCodeRedirect(
  ctx: ServerContext,
  tx: AuthorizationTransaction & { subject: string },
  status: 302 | 303,
  grantId: string = randomToken(16),
): Promise<Response> {
  const now = ctx.now()
  const code = await newSecret(ctx.sha256, ctx.randomToken)
  await ctx.store.grants.create({
    id: grantId,
    subject: tx.subject,
    client_id: tx.client_id,
    resource: tx.resource,
    scopes: tx.scopes,
    created_at: now,
    expires_at: now + ctx.lifetimes.grant,
  })
  await ctx.store.codes.put(code.hash, {
    grant_id: grantId,
    client_id: tx.client_id,
    redirect_uri: tx.redirect_uri,
    code_challenge: tx.code_challenge,
    code_challenge_method: 'S256',
    resource: tx.resource,
    scopes: tx.scopes,
    subject: tx.subject,
    ...(tx.auth_time === undefined ? {} : { auth_time: tx.auth_time }),
    expires_at: now + ctx.lifetimes.code,
  })
  return authorizationRedirect(ctx, tx.redirect_uri, { code: code.value }, tx.state, status)
}
