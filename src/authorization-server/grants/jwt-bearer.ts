/**
 * The JWT bearer grant for Identity Assertion JWT Authorization Grants (ID-JAG): an enterprise IdP
 * vouches for a user, and this server issues an access token for the named resource.
 *
 * @see [RFC 7523 §2.1](https://www.rfc-editor.org/rfc/rfc7523#section-2.1)
 * @see [draft-ietf-oauth-identity-assertion-authz-grant](https://datatracker.ietf.org/doc/draft-ietf-oauth-identity-assertion-authz-grant/)
 * @see [MCP extension: Enterprise-Managed Authorization](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/stable/enterprise-managed-authorization.mdx)
 * @module
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  type JWTPayload,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose'
import { OAuthError } from '../../protocol/errors.js'
import { randomToken } from '../../protocol/random.js'
import { parseScope } from '../../protocol/scope.js'
import { resolveResource } from '../checks/resource.js'
import { JWT_BEARER_GRANT } from '../clients/client-model.js'
import type { ServerContext } from '../context.js'
import { requiredParam } from '../http.js'
import type { IdJagIssuerOptions } from '../options.js'
import { type GrantHandler, respondWithAccessToken } from './token-response.js'

/** The ID-JAG JOSE `typ` (X-EMA6). */
export const ID_JAG_TYP = 'oauth-id-jag+jwt'

/** The grant profile advertised in metadata (X-EMA9). */
export const ID_JAG_PROFILE = 'urn:ietf:params:oauth:grant-profile:id-jag'

// X-EMA10: an explicit allow-list of asymmetric algorithms, never `none`.
const ALGORITHMS = ['ES256', 'ES384', 'PS256', 'RS256', 'EdDSA']
const MAX_LIFETIME_S = 3600

function invalidGrant(description: string): OAuthError {
  return new OAuthError('invalid_grant', description)
}

/** Creates the handler; keeps one key set per trusted issuer. */
export function createJwtBearerGrant(ctx: ServerContext): GrantHandler {
  const keySets = new Map<string, JWTVerifyGetKey>()
  function keysFor(trusted: IdJagIssuerOptions): JWTVerifyGetKey | undefined {
    let set = keySets.get(trusted.issuer)
    if (set === undefined) {
      if (trusted.jwks !== undefined) set = createLocalJWKSet(trusted.jwks)
      else if (trusted.jwksUri !== undefined && ctx.fetch !== undefined) {
        const fetchImpl = ctx.fetch
        set = createRemoteJWKSet(new URL(trusted.jwksUri), {
          [customFetch]: (url: string, init: RequestInit) => fetchImpl(url, { ...init, redirect: 'manual' }),
        })
      } else return undefined
      keySets.set(trusted.issuer, set)
    }
    return set
  }

  return async (context, { client, params, multi }) => {
    const assertion = requiredParam(params, 'assertion')
    let unverified: JWTPayload
    try {
      unverified = decodeJwt(assertion)
    } catch {
      throw invalidGrant('the assertion is malformed')
    }
    const trusted = context.idJagIssuers.find((i) => i.issuer === unverified.iss)
    const keys = trusted === undefined ? undefined : keysFor(trusted)
    if (trusted === undefined || keys === undefined) throw invalidGrant('the assertion issuer is not trusted')
    const now = context.now()
    let payload: JWTPayload
    try {
      ;({ payload } = await jwtVerify(assertion, keys, {
        algorithms: ALGORITHMS,
        typ: ID_JAG_TYP,
        issuer: trusted.issuer,
        // X-EMA2 / X-EMA10: the audience is this authorization server's issuer identifier.
        audience: context.issuer,
        requiredClaims: ['sub', 'exp', 'iat', 'jti'],
        currentDate: new Date(now),
        clockTolerance: 30,
      }))
    } catch {
      throw invalidGrant('the assertion is invalid')
    }
    if (payload.exp! * 1000 > now + MAX_LIFETIME_S * 1000) throw invalidGrant('the assertion lives too long')
    // X-EMA12 (draft): the client_id claim names the authenticated client.
    if (payload['client_id'] !== client.client_id)
      throw invalidGrant('the assertion was issued to another client')
    const claimResource = payload['resource']
    if (claimResource !== undefined && typeof claimResource !== 'string')
      throw invalidGrant('the resource claim is malformed')
    let resource: ReturnType<typeof resolveResource>
    try {
      resource = resolveResource(
        context.resources,
        claimResource === undefined ? multi.get('resource') : [claimResource],
        context.defaultResource,
      )
    } catch {
      throw invalidGrant('the assertion names a resource this server does not serve')
    }
    const requestedResource = multi.get('resource')
    if (requestedResource !== undefined && claimResource !== undefined) {
      const asked = resolveResource(context.resources, requestedResource, undefined)
      if (asked.uri !== resource.uri) throw invalidGrant('the resource does not match the assertion')
    }
    // X-EMA13: grant the intersection of the asserted, requested and offered scopes.
    const asserted =
      typeof payload['scope'] === 'string' ? parseScope(payload['scope']) : resource.defaultScopes
    const requested = params.has('scope') ? new Set(parseScope(params.get('scope'))) : undefined
    const scopes = asserted.filter(
      (s) => resource.scopes.has(s) && (requested === undefined || requested.has(s)),
    )
    // X-EMA11: replay protection until expiry.
    if (!(await context.store.jtis.markUsed(trusted.issuer, payload.jti!, payload.exp! * 1000, now))) {
      throw invalidGrant('the assertion was already used')
    }
    return respondWithAccessToken(
      context,
      JWT_BEARER_GRANT,
      {
        grant_id: `jag_${randomToken(12)}`,
        standalone: true,
        client_id: client.client_id,
        subject: payload.sub!,
        resource: resource.uri,
        scopes,
      },
      now,
    )
  }
}
