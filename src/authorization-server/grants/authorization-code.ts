/**
 * The authorization code grant. Every check that needs no state runs before the code is redeemed,
 * so a malformed request or an invalid `resource` consumes nothing (anchors S12); the code is
 * looked up by its hash, so a wrong code has no side effect at all (S11); a replayed code revokes
 * everything its grant produced.
 *
 * @see [RFC 6749 §4.1.3](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3)
 * @see [OAuth 2.1 §4.1.3](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1.3)
 * @see [RFC 7636 §4.6](https://www.rfc-editor.org/rfc/rfc7636#section-4.6)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { isValidCodeVerifier } from '../../protocol/pkce.js'
import { resolveResource } from '../checks/resource.js'
import { verifyPkce } from '../digest.js'
import { requiredParam } from '../http.js'
import { newSecret } from '../tokens.js'
import { type GrantHandler, respondWithAccessToken } from './token-response.js'

function invalidGrant(description: string): OAuthError {
  return new OAuthError('invalid_grant', description)
}

/** `grant_type=authorization_code`. */
export const authorizationCodeGrant: GrantHandler = async (ctx, { client, params, multi }) => {
  const code = requiredParam(params, 'code')
  const verifier = params.get('code_verifier')
  // S7 (a): every code carries a challenge, so a missing or malformed verifier can never pass.
  if (verifier === undefined || !isValidCodeVerifier(verifier))
    throw invalidGrant('code_verifier is missing or malformed')
  // S12: an unknown resource is refused before the code is touched.
  const requestedResource = multi.has('resource')
    ? resolveResource(ctx.resources, multi.get('resource'), undefined)
    : undefined
  const presentedRedirect = params.get('redirect_uri')

  const now = ctx.now()
  const hash = await ctx.sha256(code)
  if (requestedResource !== undefined) {
    // S12: a resource other than the authorized one is refused before the code is redeemed, but
    // only to the code's own client proving PKCE (anyone else learns nothing and burns the code).
    const pending = await ctx.store.codes.peek(hash, now)
    if (
      pending !== undefined &&
      pending.client_id === client.client_id &&
      pending.resource !== requestedResource.uri &&
      (await verifyPkce(ctx.sha256, verifier, pending.code_challenge, pending.code_challenge_method))
    )
      throw new OAuthError('invalid_target', 'the resource does not match the authorization')
  }
  const redeemed = await ctx.store.codes.consume(hash, now)
  if (redeemed.status === 'not_found' || redeemed.status === 'expired')
    throw invalidGrant('the code is invalid or expired')
  const record = redeemed.record
  if (redeemed.status === 'replayed') {
    // RFC 6749 §4.1.2: a code used twice revokes what it produced, but only when the real code
    // comes back from its own client (S11: nothing happens for anyone else).
    if (record.client_id === client.client_id && (await ctx.store.grants.revoke(record.grant_id, now))) {
      ctx.audit({
        type: 'grant.revoked',
        at: now,
        grant_id: record.grant_id,
        client_id: client.client_id,
        reason: 'code_replay',
      })
    }
    throw invalidGrant('the code was already used')
  }
  if (record.client_id !== client.client_id) throw invalidGrant('the code was issued to another client')
  // RFC 6749 §4.1.3: redirect_uri must be identical to the one in the authorization request.
  if (presentedRedirect !== undefined) {
    if (presentedRedirect !== record.redirect_uri) throw invalidGrant('redirect_uri does not match')
  } else {
    const registered = client.metadata.redirect_uris ?? []
    if (registered.length !== 1 || registered[0] !== record.redirect_uri)
      throw invalidGrant('redirect_uri is required')
  }
  // Constant time (S20): the computed challenge is compared with constantTimeEqual.
  if (!(await verifyPkce(ctx.sha256, verifier, record.code_challenge, record.code_challenge_method))) {
    throw invalidGrant('PKCE verification failed')
  }
  if (requestedResource !== undefined && requestedResource.uri !== record.resource) {
    throw new OAuthError('invalid_target', 'the resource does not match the authorization')
  }

  const wantsRefresh = client.grantTypes.includes('refresh_token')
  const refresh = wantsRefresh ? await newSecret(ctx.sha256, ctx.randomToken) : undefined
  // The grant was recorded at consent; the two token writes are independent.
  const [response] = await Promise.all([
    respondWithAccessToken(
      ctx,
      'authorization_code',
      {
        grant_id: record.grant_id,
        client_id: client.client_id,
        subject: record.subject,
        resource: record.resource,
        scopes: record.scopes,
        ...(record.auth_time === undefined ? {} : { auth_time: record.auth_time }),
      },
      now,
      refresh?.value,
    ),
    refresh === undefined
      ? undefined
      : ctx.store.refreshTokens.issue(refresh.hash, {
          grant_id: record.grant_id,
          client_id: client.client_id,
          subject: record.subject,
          resource: record.resource,
          scopes: record.scopes,
          created_at: now,
          // The grant's absolute end is checked again at every refresh.
          expires_at: now + Math.min(ctx.lifetimes.refreshToken, ctx.lifetimes.grant),
        }),
  ])
  return response
}
