/**
 * Verifying opaque (or any) access tokens with OAuth 2.0 Token Introspection (RFC 7662).
 *
 * @see [RFC 7662](https://www.rfc-editor.org/rfc/rfc7662)
 * @module
 */

import { audienceMatches } from '../protocol/resource.js'
import { parseScope } from '../protocol/scope.js'
import type { VerifiedToken, Verifier } from './auth-info.js'
import { invalidOptions, TokenVerificationError, type TokenVerificationErrorCode } from './errors.js'
import { discoverAuthorizationServer, type FetchLike, readJson, unavailable } from './fetch-json.js'
import { checkSecureUrl, requiredResource, requiredString } from './option-checks.js'
import { hashToken, TokenCache } from './token-cache.js'

/**
 * How the resource server authenticates to the introspection endpoint (RFC 7662 §2.1 requires
 * some authorization). `client_secret_basic` is the default method.
 */
export type IntrospectionClientAuth =
  | { clientId: string; clientSecret: string; method?: 'client_secret_basic' | 'client_secret_post' }
  | { bearerToken: string }

/** Options of {@link introspectionVerifier}. */
export interface IntrospectionVerifierOptions {
  /** The AS's issuer identifier (REQUIRED). A response naming another `iss` is refused. */
  issuer: string
  /** This resource's canonical identifier (REQUIRED); the response's `aud` must name it. */
  audience: string
  /** The introspection endpoint; when absent it is read from the issuer's metadata. */
  introspectionEndpoint?: string
  /** Credentials of this resource server at the AS (REQUIRED). */
  clientAuth: IntrospectionClientAuth
  /** The `fetch` used. Default `globalThis.fetch`; the Node entry point defaults to the SSRF-safe fetch. */
  fetch?: FetchLike
  /** How long a positive answer may be reused, in seconds (via the verified-token cache). Default 30. */
  positiveCacheSeconds?: number
  /** How long a negative answer (`active: false`) is remembered, in seconds. Default 10. 0 disables. */
  negativeCacheSeconds?: number
  /** Most negative answers remembered. Default 10 000. */
  negativeCacheMaxEntries?: number
  /** Clock skew allowed for `exp` and `nbf`, in seconds. Default 5. */
  clockToleranceSeconds?: number
  /** Time budget of one call, in milliseconds. Default 5000. */
  fetchTimeoutMs?: number
  /** The clock, in milliseconds since the epoch. For tests. */
  now?: () => number
}

function fail(code: TokenVerificationErrorCode, detail: string): never {
  throw new TokenVerificationError(code, { detail })
}

/** RFC 6749 §2.3.1: client id and secret are form-urlencoded before Basic encoding. */
function basicCredentials(clientId: string, clientSecret: string): string {
  const encode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+')
  const raw = `${encode(clientId)}:${encode(clientSecret)}`
  let binary = ''
  for (const byte of new TextEncoder().encode(raw)) binary += String.fromCharCode(byte)
  return `Basic ${btoa(binary)}`
}

/**
 * A {@link Verifier} that asks the authorization server about each token (RFC 7662), with the
 * same rules as the JWT verifier: the answer must be `active`, from the configured issuer (when
 * it names one), not expired or not yet valid, with an `aud` naming this resource (an answer
 * without `aud` is refused: the audience check is mandatory) and a `client_id`.
 *
 * Positive answers are reused by the verified-token cache of `protectedResource` for at most
 * `positiveCacheSeconds`; negative answers are remembered here for `negativeCacheSeconds`, keyed
 * by the token's SHA-256, so a rejected token does not cost one call per request.
 *
 * @throws {ResourceServerError} `ERR_INVALID_OPTIONS` at construction
 * @see [RFC 7662 §2](https://www.rfc-editor.org/rfc/rfc7662#section-2)
 * @see [RFC 7662 §4](https://www.rfc-editor.org/rfc/rfc7662#section-4) security considerations
 */
export function introspectionVerifier(options: IntrospectionVerifierOptions): Verifier {
  requiredString(options?.issuer, 'introspectionVerifier: issuer')
  const audience = requiredResource(options.audience, 'introspectionVerifier: audience')
  const auth = options.clientAuth
  if (
    auth === undefined ||
    ('bearerToken' in auth ? !auth.bearerToken : !auth.clientId || typeof auth.clientSecret !== 'string')
  ) {
    invalidOptions('introspectionVerifier: clientAuth is required (RFC 7662 §2.1)')
  }
  if (options.introspectionEndpoint !== undefined) {
    checkSecureUrl(options.introspectionEndpoint, 'introspectionVerifier: introspectionEndpoint')
  }
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const now = options.now ?? Date.now
  const tolerance = options.clockToleranceSeconds ?? 5
  const limits = { timeoutMs: options.fetchTimeoutMs ?? 5000, maxBytes: 256 * 1024 }
  const negativeSeconds = options.negativeCacheSeconds ?? 10
  const negative = new TokenCache<true>(negativeSeconds > 0 ? (options.negativeCacheMaxEntries ?? 10_000) : 0)
  let endpoint = options.introspectionEndpoint

  const resolveEndpoint = async (): Promise<string> => {
    if (endpoint !== undefined) return endpoint
    const metadata = await discoverAuthorizationServer(
      fetchImpl,
      options.issuer,
      limits,
      'ERR_INTROSPECTION_UNAVAILABLE',
    )
    if (metadata.introspection_endpoint === undefined) {
      throw unavailable(
        'ERR_INTROSPECTION_UNAVAILABLE',
        'authorization server metadata has no introspection_endpoint',
      )
    }
    endpoint = metadata.introspection_endpoint
    return endpoint
  }

  const introspect = async (token: string): Promise<Record<string, unknown>> => {
    const url = await resolveEndpoint()
    const body = new URLSearchParams({ token, token_type_hint: 'access_token' })
    const headers: Record<string, string> = {
      accept: 'application/json',
      'content-type': 'application/x-www-form-urlencoded',
    }
    if ('bearerToken' in auth) {
      headers['authorization'] = `Bearer ${auth.bearerToken}`
    } else if (auth.method === 'client_secret_post') {
      body.set('client_id', auth.clientId)
      body.set('client_secret', auth.clientSecret)
    } else {
      headers['authorization'] = basicCredentials(auth.clientId, auth.clientSecret)
    }
    let response: Response
    try {
      response = await fetchImpl(url, {
        method: 'POST',
        headers,
        body: body.toString(),
        redirect: 'manual',
        signal: AbortSignal.timeout(limits.timeoutMs),
      })
    } catch (error) {
      throw unavailable('ERR_INTROSPECTION_UNAVAILABLE', 'introspection: fetch failed', error)
    }
    const json = await readJson(response, limits, 'ERR_INTROSPECTION_UNAVAILABLE', 'introspection')
    if (
      typeof json !== 'object' ||
      json === null ||
      Array.isArray(json) ||
      typeof (json as { active?: unknown }).active !== 'boolean'
    ) {
      throw unavailable('ERR_INTROSPECTION_UNAVAILABLE', 'introspection: not an introspection response')
    }
    return json as Record<string, unknown>
  }

  return {
    maxCacheAgeSeconds: options.positiveCacheSeconds ?? 30,
    async verify(token: string): Promise<VerifiedToken> {
      if (typeof token !== 'string' || token === '') fail('ERR_MALFORMED', 'empty token')
      const key = await hashToken(token)
      if (negative.get(key, now()) !== undefined) fail('ERR_INACTIVE', 'inactive (cached)')
      const claims = await introspect(token)
      try {
        return checkClaims(claims, options.issuer, audience, now() / 1000, tolerance)
      } catch (error) {
        if (negativeSeconds > 0 && error instanceof TokenVerificationError) {
          negative.set(key, true, now() + negativeSeconds * 1000)
        }
        throw error
      }
    },
  }
}

/** RFC 7662 §2.2 response checks. */
function checkClaims(
  claims: Record<string, unknown>,
  issuer: string,
  audience: string,
  nowSeconds: number,
  tolerance: number,
): VerifiedToken {
  if (claims['active'] !== true) fail('ERR_INACTIVE', 'active is false')
  const iss = claims['iss']
  if (iss !== undefined && iss !== issuer) fail('ERR_ISSUER', 'iss is not the configured issuer')
  const exp = claims['exp']
  if (exp !== undefined && typeof exp !== 'number') fail('ERR_MALFORMED', 'exp is not a number')
  if (typeof exp === 'number' && exp <= nowSeconds - tolerance) fail('ERR_EXPIRED', 'exp in the past')
  const nbf = claims['nbf']
  if (typeof nbf === 'number' && nbf > nowSeconds + tolerance) fail('ERR_NOT_YET_VALID', 'nbf in the future')
  const tokenType = claims['token_type']
  if (typeof tokenType === 'string' && tokenType.toLowerCase() === 'refresh_token') {
    fail('ERR_MALFORMED', 'a refresh token is not an access token')
  }
  const aud = claims['aud']
  const audList =
    typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a) => typeof a === 'string') : []
  if (!audienceMatches(audList, audience)) fail('ERR_AUDIENCE', 'aud missing or not this resource')
  const clientId = claims['client_id']
  if (typeof clientId !== 'string' || clientId === '') fail('ERR_MALFORMED', 'client_id missing')
  let scopes: string[]
  try {
    scopes = parseScope(typeof claims['scope'] === 'string' ? claims['scope'] : undefined)
  } catch {
    fail('ERR_MALFORMED', 'scope malformed')
  }
  const verified: VerifiedToken = { clientId, scopes, audience: audList, issuer, claims }
  if (typeof claims['sub'] === 'string') verified.subject = claims['sub']
  if (typeof exp === 'number') verified.expiresAt = exp
  return verified
}
