/**
 * Who the user is at the upstream provider: from a verified OpenID Connect ID Token, or from the
 * provider's userinfo endpoint (GitHub's `/user`).
 *
 * @see [OpenID Connect Core 1.0 §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation) ID Token validation
 * @see [OpenID Connect Core 1.0 §5.3](https://openid.net/specs/openid-connect-core-1_0.html#UserInfo) UserInfo endpoint
 * @module
 */
import { createRemoteJWKSet, customFetch, type JWTPayload, jwtVerify } from 'jose'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import { ASYMMETRIC_JWS_ALGORITHMS } from '../protocol/jws-algorithms.js'
import { timingSafeEqual } from '../protocol/random.js'
import { ProxyError } from './errors.js'
import type { ResolvedUpstream } from './upstream-options.js'

/** The user as the upstream provider knows them. Non-secret. */
export interface UpstreamIdentity {
  /** The provider's issuer identifier. */
  issuer: string
  /** The provider's stable identifier of the user (`sub`, or GitHub's numeric `id`). */
  subject: string
  /** A display name (`name`, `login`, `email`), when the provider gave one. */
  name?: string
}

const MAX_CLAIM_LENGTH = 255

/** JWS algorithms accepted for ID Tokens: the asymmetric ones, never `none` or HMAC (RFC 8725 §3.1). */
export const ID_TOKEN_ALGORITHMS: readonly string[] = ASYMMETRIC_JWS_ALGORITHMS

function identityError(message: string, cause?: unknown): ProxyError {
  return new ProxyError('ERR_UPSTREAM_IDENTITY', message, cause === undefined ? {} : { cause })
}

function subjectOf(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value)
  if (typeof value === 'string' && value !== '' && value.length <= MAX_CLAIM_LENGTH) return value
  return undefined
}

function nameOf(claims: Record<string, unknown>, claim: string | undefined): string | undefined {
  for (const name of claim === undefined ? ['name', 'preferred_username', 'email'] : [claim]) {
    const value = claims[name]
    if (typeof value === 'string' && value.trim() !== '' && value.length <= MAX_CLAIM_LENGTH) return value
  }
  return undefined
}

/** Verifies ID Tokens against the provider's JWKS (fetched through the upstream `fetch`, cached by jose). */
export interface IdTokenVerifier {
  verify(idToken: string, expected: { nonce: string | undefined }): Promise<UpstreamIdentity>
}

/**
 * An ID Token verifier for `metadata.jwks_uri`: signature (asymmetric algorithms only), `iss` =
 * the provider's issuer, `aud` = our client id, `azp` when present, expiry, and `nonce` equal to
 * the one sent with this very authorization request.
 *
 * @see [OpenID Connect Core 1.0 §3.1.3.7](https://openid.net/specs/openid-connect-core-1_0.html#IDTokenValidation)
 */
export function createIdTokenVerifier(
  upstream: ResolvedUpstream,
  metadata: AuthorizationServerMetadata,
  now: () => number,
): IdTokenVerifier {
  if (metadata.jwks_uri === undefined) throw identityError('the identity provider publishes no jwks_uri')
  const jwks = createRemoteJWKSet(new URL(metadata.jwks_uri), {
    [customFetch]: (url, init) => upstream.fetch(url, init),
    timeoutDuration: 5000,
  })
  return {
    async verify(idToken, expected) {
      let payload: JWTPayload
      try {
        ;({ payload } = await jwtVerify(idToken, jwks, {
          issuer: metadata.issuer,
          audience: upstream.clientId,
          algorithms: [...ID_TOKEN_ALGORITHMS],
          currentDate: new Date(now()),
          clockTolerance: 30,
          requiredClaims: ['sub', 'exp', 'iat'],
        }))
      } catch (error) {
        throw identityError('the ID Token did not verify', error)
      }
      // §3.1.3.7 item 4-5: with several audiences, azp must be present and be our client.
      if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload['azp'] !== upstream.clientId) {
        throw identityError('the ID Token was issued to another party (azp)')
      }
      if (payload['azp'] !== undefined && payload['azp'] !== upstream.clientId) {
        throw identityError('the ID Token was issued to another party (azp)')
      }
      // §3.1.3.7 item 11: the nonce must be the one sent with this authorization request.
      const nonce = payload['nonce']
      if (expected.nonce !== undefined) {
        if (typeof nonce !== 'string' || !(await timingSafeEqual(nonce, expected.nonce))) {
          throw identityError('the ID Token nonce does not match the request')
        }
      } else if (nonce !== undefined) {
        throw identityError('the ID Token carries a nonce that was never sent')
      }
      const subject = subjectOf(payload.sub)
      if (subject === undefined) throw identityError('the ID Token has no usable sub')
      const name = nameOf(payload as Record<string, unknown>, undefined)
      return name === undefined
        ? { issuer: metadata.issuer, subject }
        : { issuer: metadata.issuer, subject, name }
    },
  }
}

/**
 * Sends the userinfo request: `GET` with the upstream access token as a Bearer token. GitHub
 * answers `/user` with `id` and `login`; an OpenID provider with `sub`.
 *
 * @see [OpenID Connect Core 1.0 §5.3.1](https://openid.net/specs/openid-connect-core-1_0.html#UserInfoRequest)
 * @see [GitHub REST API: Get the authenticated user](https://docs.github.com/en/rest/users/users#get-the-authenticated-user)
 */
export function userInfoRequest(
  upstream: ResolvedUpstream,
  endpoint: string,
  accessToken: string,
): Promise<Response> {
  return upstream.fetch(endpoint, {
    method: 'GET',
    redirect: 'manual',
    headers: {
      authorization: `Bearer ${accessToken}`,
      accept: 'application/json, application/vnd.github+json;q=0.9',
    },
  })
}

/**
 * Reads the identity out of a userinfo response: status 200, a JSON object, a usable subject
 * member (`subjectClaim`, default `sub`).
 *
 * @see [OpenID Connect Core 1.0 §5.3.2](https://openid.net/specs/openid-connect-core-1_0.html#UserInfoResponse)
 */
export async function processUserInfoResponse(
  upstream: ResolvedUpstream,
  issuer: string,
  response: Response,
): Promise<UpstreamIdentity> {
  if (response.status !== 200) {
    await response.body?.cancel().catch(() => undefined)
    throw new ProxyError('ERR_UPSTREAM_IDENTITY', 'the userinfo request failed', {
      detail: `status ${response.status}`,
    })
  }
  let body: unknown
  try {
    body = await response.json()
  } catch (error) {
    throw identityError('the userinfo response is not JSON', error)
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw identityError('the userinfo response is not an object')
  const claims = body as Record<string, unknown>
  const source =
    upstream.identity.from === 'userinfo'
      ? upstream.identity
      : { subjectClaim: undefined, nameClaim: undefined }
  const subject = subjectOf(claims[source.subjectClaim ?? 'sub'])
  if (subject === undefined) throw identityError('the userinfo response names no user')
  const name = nameOf(claims, source.nameClaim)
  return name === undefined ? { issuer, subject } : { issuer, subject, name }
}
