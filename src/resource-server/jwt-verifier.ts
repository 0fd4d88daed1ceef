/**
 * Verifying JWT access tokens (RFC 9068) locally with `jose`.
 *
 * @see [RFC 9068 §4](https://www.rfc-editor.org/rfc/rfc9068#section-4) validating JWT access tokens
 * @see [RFC 8725](https://www.rfc-editor.org/rfc/rfc8725) JWT best current practices
 * @module
 */

import { type JSONWebKeySet, type JWTPayload, jwtVerify } from 'jose'
import { ASYMMETRIC_JWS_ALGORITHMS } from '../protocol/jws-algorithms.js'
import { audienceMatches } from '../protocol/resource.js'
import { parseScope } from '../protocol/scope.js'
import type { VerifiedToken, Verifier } from './auth-info.js'
import { invalidOptions, TokenVerificationError, type TokenVerificationErrorCode } from './errors.js'
import type { FetchLike } from './fetch-json.js'
import { createKeySource } from './jwks.js'
import { checkSecureUrl, requiredResource, requiredString } from './option-checks.js'

/**
 * The JWS algorithms accepted by default: the asymmetric ones. `none` and the HMAC family are
 * never accepted: a resource server holds no shared secret with the AS, and HMAC "verified" with
 * a public key is the classic algorithm-confusion attack (RFC 8725 §2.1).
 */
export const DEFAULT_JWT_ALGORITHMS: readonly string[] = ASYMMETRIC_JWS_ALGORITHMS

const ALLOWED_ALGORITHMS = new Set(DEFAULT_JWT_ALGORITHMS)

/** Options of {@link jwtVerifier}. */
export interface JwtVerifierOptions {
  /** The expected `iss`, exactly (REQUIRED). */
  issuer: string
  /**
   * This resource's canonical identifier (REQUIRED). A token is accepted only when its `aud`
   * names it (compared in canonical form).
   */
  audience: string
  /** A local JWK Set. Exclusive with `jwksUri`. */
  jwks?: JSONWebKeySet
  /**
   * The AS's `jwks_uri`. When neither this nor `jwks` is given, the URI is read from the
   * issuer's authorization server metadata (RFC 8414, then OpenID Connect Discovery).
   */
  jwksUri?: string
  /**
   * The `fetch` used for metadata and JWKS. Default `globalThis.fetch`; the Node entry point
   * defaults to the SSRF-safe fetch.
   */
  fetch?: FetchLike
  /** Accepted `alg` values, a subset of {@link DEFAULT_JWT_ALGORITHMS}. */
  algorithms?: readonly string[]
  /**
   * Also accept `typ: JWT` (or no `typ`), for authorization servers that do not follow RFC 9068
   * §2.1. Default false: only `at+jwt` / `application/at+jwt`.
   */
  allowJwtTyp?: boolean
  /** Clock skew allowed for `exp`, `nbf` and `iat`, in seconds. Default 5. */
  clockToleranceSeconds?: number
  /** Least time between JWKS fetches triggered by unknown `kid`s, in seconds. Default 30. */
  jwksRefetchIntervalSeconds?: number
  /** How long a fetched JWKS is used before it is fetched again, in seconds. Default 600. */
  jwksMaxAgeSeconds?: number
  /** Time budget of one metadata or JWKS fetch, in milliseconds. Default 5000. */
  fetchTimeoutMs?: number
  /**
   * Longest time a verification result may be reused by the verified-token cache, in seconds.
   * Default 300.
   */
  maxCacheAgeSeconds?: number
  /** The clock, in milliseconds since the epoch. For tests. */
  now?: () => number
}

const JOSE_CODES: Readonly<Record<string, TokenVerificationErrorCode>> = {
  ERR_JWT_EXPIRED: 'ERR_EXPIRED',
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: 'ERR_SIGNATURE',
  ERR_JOSE_ALG_NOT_ALLOWED: 'ERR_ALGORITHM',
  ERR_JOSE_NOT_SUPPORTED: 'ERR_ALGORITHM',
  ERR_JWKS_NO_MATCHING_KEY: 'ERR_UNKNOWN_KEY',
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: 'ERR_UNKNOWN_KEY',
  ERR_JWKS_INVALID: 'ERR_UNKNOWN_KEY',
  ERR_JWS_INVALID: 'ERR_MALFORMED',
  ERR_JWT_INVALID: 'ERR_MALFORMED',
}

/** Maps a jose error to our code; the jose message (which never holds the token) goes to `detail`. */
function fromJose(error: unknown): TokenVerificationError {
  if (error instanceof TokenVerificationError) return error
  const code = (error as { code?: unknown } | null)?.code
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    const { claim, reason } = error as { claim?: string; reason?: string }
    const mapped: TokenVerificationErrorCode =
      claim === 'iss'
        ? 'ERR_ISSUER'
        : claim === 'aud'
          ? 'ERR_AUDIENCE'
          : claim === 'exp' && reason === 'missing'
            ? 'ERR_MISSING_EXP'
            : (claim === 'nbf' || claim === 'iat') && reason === 'check_failed'
              ? 'ERR_NOT_YET_VALID'
              : 'ERR_MALFORMED'
    return new TokenVerificationError(mapped, {
      detail: `claim ${claim ?? '?'}: ${reason ?? 'invalid'}`,
      cause: error,
    })
  }
  const mapped = typeof code === 'string' ? JOSE_CODES[code] : undefined
  return new TokenVerificationError(mapped ?? 'ERR_MALFORMED', {
    detail: typeof code === 'string' ? code : 'unexpected verification failure',
    cause: error,
  })
}

function fail(code: TokenVerificationErrorCode, detail: string): never {
  throw new TokenVerificationError(code, { detail })
}

/** RFC 9068 §2.2 `client_id`; `azp` is what OpenID-style servers put there instead. */
function clientIdOf(payload: JWTPayload): string {
  const clientId = payload['client_id'] ?? payload['azp']
  if (typeof clientId !== 'string' || clientId === '') fail('ERR_MALFORMED', 'client_id missing')
  return clientId
}

/** RFC 9068 §2.2.3 `scope` (space-delimited); `scp` (a list) as some servers send it. */
function scopesOf(payload: JWTPayload): string[] {
  const scope = payload['scope']
  try {
    if (typeof scope === 'string') return parseScope(scope)
    if (scope === undefined) {
      const scp = payload['scp']
      if (scp === undefined) return []
      if (Array.isArray(scp) && scp.every((s) => typeof s === 'string')) return parseScope(scp.join(' '))
    }
  } catch {
    // falls through to the error below
  }
  return fail('ERR_MALFORMED', 'scope claim malformed')
}

function isAccessTokenTyp(typ: unknown, allowJwt: boolean): boolean {
  if (typ === undefined) return allowJwt
  if (typeof typ !== 'string') return false
  const normalized = typ.toLowerCase().replace(/^application\//, '')
  return normalized === 'at+jwt' || (allowJwt && normalized === 'jwt')
}

/**
 * A {@link Verifier} for JWT access tokens (RFC 9068), checked in this order: `alg` on the
 * allow-list, a key from the JWK Set (one rate-limited refetch for an unknown `kid`), the
 * signature, `typ`, `iss` exactly, `exp` present and not past, `nbf` and `iat` not in the future
 * (each with the clock tolerance), `aud` naming this resource, then `client_id` and `scope`.
 *
 * Issuer and audience are mandatory; there is no option to skip either check.
 *
 * @throws {ResourceServerError} `ERR_INVALID_OPTIONS` at construction for a missing issuer or
 *   audience, `jwks` together with `jwksUri`, or an algorithm outside the asymmetric allow-list
 * @see [RFC 9068 §4](https://www.rfc-editor.org/rfc/rfc9068#section-4)
 * @see [RFC 8725 §3.1](https://www.rfc-editor.org/rfc/rfc8725#section-3.1) algorithm verification
 * @see [MCP Authorization: Token Audience Binding and Validation](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-audience-binding-and-validation)
 */
export function jwtVerifier(options: JwtVerifierOptions): Verifier {
  const issuer = requiredString(options?.issuer, 'jwtVerifier: issuer')
  const audience = requiredResource(options.audience, 'jwtVerifier: audience')
  if (options.jwks !== undefined && options.jwksUri !== undefined) {
    invalidOptions('jwtVerifier: give either jwks or jwksUri, not both')
  }
  if (options.jwksUri !== undefined) checkSecureUrl(options.jwksUri, 'jwtVerifier: jwksUri')
  const algorithms = [...(options.algorithms ?? DEFAULT_JWT_ALGORITHMS)]
  if (algorithms.length === 0) invalidOptions('jwtVerifier: algorithms is empty')
  for (const alg of algorithms) {
    if (!ALLOWED_ALGORITHMS.has(alg)) {
      invalidOptions('jwtVerifier: only asymmetric JWS algorithms are accepted (never none or HMAC)', alg)
    }
  }
  const fetchImpl = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  const now = options.now ?? Date.now
  const tolerance = options.clockToleranceSeconds ?? 5
  const allowJwtTyp = options.allowJwtTyp === true
  const getKey = createKeySource({
    issuer,
    ...(options.jwks === undefined ? {} : { jwks: options.jwks }),
    ...(options.jwksUri === undefined ? {} : { jwksUri: options.jwksUri }),
    fetch: fetchImpl,
    refetchIntervalSeconds: options.jwksRefetchIntervalSeconds ?? 30,
    maxAgeSeconds: options.jwksMaxAgeSeconds ?? 600,
    timeoutMs: options.fetchTimeoutMs ?? 5000,
    maxBytes: 512 * 1024,
    now,
  })

  return {
    maxCacheAgeSeconds: options.maxCacheAgeSeconds ?? 300,
    async verify(token: string): Promise<VerifiedToken> {
      if (typeof token !== 'string' || token === '') fail('ERR_MALFORMED', 'empty token')
      let payload: JWTPayload
      let typ: unknown
      const currentDate = new Date(now())
      try {
        const result = await jwtVerify(token, getKey, {
          issuer,
          algorithms,
          clockTolerance: tolerance,
          requiredClaims: ['exp'],
          currentDate,
        })
        payload = result.payload
        typ = result.protectedHeader.typ
      } catch (error) {
        throw fromJose(error)
      }
      // RFC 9068 §4: the resource server MUST verify that `typ` is `at+jwt` / `application/at+jwt`.
      if (!isAccessTokenTyp(typ, allowJwtTyp)) fail('ERR_MALFORMED', 'typ is not at+jwt')
      // jose checks `iat` only with maxTokenAge; a token issued in the future is not yet valid.
      if (typeof payload.iat === 'number' && payload.iat > currentDate.getTime() / 1000 + tolerance) {
        fail('ERR_NOT_YET_VALID', 'iat in the future')
      }
      // RFC 9068 §4 / RFC 8707: the token MUST be meant for this resource.
      const aud = payload.aud
      if (!audienceMatches(aud, audience)) fail('ERR_AUDIENCE', 'aud does not name this resource')
      const verified: VerifiedToken = {
        clientId: clientIdOf(payload),
        scopes: scopesOf(payload),
        audience: typeof aud === 'string' ? [aud] : [...(aud ?? [])],
        issuer,
        claims: payload as Record<string, unknown>,
      }
      if (typeof payload.sub === 'string') verified.subject = payload.sub
      if (typeof payload.exp === 'number') verified.expiresAt = payload.exp
      return verified
    },
  }
}
