/**
 * The upstream identity provider as the proxy is configured for it, and its validation at
 * construction (fail closed: a missing secret or an insecure endpoint is an error before any
 * request is served).
 *
 * @module
 */
import { assertSecureEndpoint } from '../protocol/authorization-server-metadata.js'
import { isValidScopeToken } from '../protocol/scope.js'
import { ProxyError } from './errors.js'

/** A `fetch` for the upstream provider's endpoints. */
export type UpstreamFetch = (input: string, init?: RequestInit) => Promise<Response>

/**
 * How the user's identity is derived from the upstream login:
 * - `id_token`: the OpenID Connect ID Token of the token response, verified with the provider's
 *   JWKS (`iss`, `aud` = our client id, `nonce`, expiry); needs the `openid` scope.
 * - `userinfo`: a call to the userinfo endpoint with the upstream access token (GitHub's
 *   `/user`); `subjectClaim` names the member that identifies the user (`sub` for OIDC, `id` for
 *   GitHub), `nameClaim` the display name.
 */
export type UpstreamIdentitySource =
  | { from: 'id_token' }
  | { from: 'userinfo'; subjectClaim?: string; nameClaim?: string }

/** Endpoints of a provider without metadata discovery (GitHub). */
export interface UpstreamEndpoints {
  authorization: string
  token: string
  /** Required when identity comes from `userinfo`. */
  userinfo?: string
  /** RFC 7009 token revocation; upstream tokens are revoked there when a grant ends. */
  revocation?: string
  /** Required when identity comes from `id_token`. */
  jwks?: string
}

/** The upstream identity provider. */
export interface UpstreamOptions {
  /** Shown on the consent page: "you will sign in with GitHub next". */
  name: string
  /**
   * The provider's issuer identifier. Without `endpoints`, its metadata is discovered (RFC 8414,
   * then OpenID Connect Discovery) through `fetch` on first use; with `endpoints` it only names
   * the provider (`upstream_iss` in our tokens, the `iss` checked in ID Tokens).
   */
  issuer: string
  /** Explicit endpoints; when given, nothing is discovered. */
  endpoints?: UpstreamEndpoints
  /** The proxy's one static client at the provider. */
  clientId: string
  /** Its secret. Stays on the server: never in a page, a redirect, a DCR response or a log. */
  clientSecret: string
  /** Default `client_secret_basic`. */
  tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post'
  /** Scopes asked of the provider (e.g. `openid email`, or GitHub's `read:user`). */
  scopes: string[]
  /** Extra authorization request parameters (Google: `access_type=offline`, `prompt=consent`). */
  authorizationParams?: Record<string, string>
  identity: UpstreamIdentitySource
  /**
   * Whether the provider sends `iss` in authorization responses (RFC 9207). Taken from the
   * discovered metadata when not set; with explicit endpoints, default `false`.
   */
  issParameterSupported?: boolean
  /** Accept `http:` for a provider on a loopback address (development and tests). Default false. */
  allowInsecureLoopback?: boolean
  /** The `fetch` for every upstream call. Default `globalThis.fetch`; the Node entry point passes the SSRF-safe fetch. */
  fetch?: UpstreamFetch
  /** Path, under the proxy's issuer, the provider redirects back to. Default `/upstream/callback`. */
  callbackPath?: string
}

/** Upstream options after validation. */
export interface ResolvedUpstream
  extends Required<Omit<UpstreamOptions, 'endpoints' | 'issParameterSupported' | 'fetch'>> {
  endpoints: UpstreamEndpoints | undefined
  issParameterSupported: boolean | undefined
  fetch: UpstreamFetch
}

const RESERVED_AUTHORIZATION_PARAMS = new Set([
  'response_type',
  'client_id',
  'redirect_uri',
  'state',
  'code_challenge',
  'code_challenge_method',
  'nonce',
  'scope',
  'client_secret',
])

function invalid(message: string): ProxyError {
  return new ProxyError('ERR_INVALID_OPTIONS', message)
}

function checkUrl(url: unknown, what: string, allowInsecureLoopback: boolean): string {
  if (typeof url !== 'string' || url === '') throw invalid(`${what} is required`)
  try {
    assertSecureEndpoint(url, { allowHttpLoopback: allowInsecureLoopback })
  } catch {
    throw invalid(`${what} must be an https URL (http only for loopback with allowInsecureLoopback)`)
  }
  return url
}

/**
 * Validates the upstream options. Throws `ProxyError` `ERR_INVALID_OPTIONS`.
 *
 * @see [RFC 9700 §2.1](https://www.rfc-editor.org/rfc/rfc9700#section-2.1) PKCE, exact redirect URIs, `state`
 */
export function resolveUpstream(options: UpstreamOptions | undefined): ResolvedUpstream {
  if (typeof options !== 'object' || options === null) throw invalid('upstream is required')
  const insecure = options.allowInsecureLoopback === true
  if (typeof options.name !== 'string' || options.name.trim() === '')
    throw invalid('upstream.name is required')
  const issuer = checkUrl(options.issuer, 'upstream.issuer', insecure)
  if (typeof options.clientId !== 'string' || options.clientId === '')
    throw invalid('upstream.clientId is required')
  if (typeof options.clientSecret !== 'string' || options.clientSecret === '') {
    throw invalid('upstream.clientSecret is required')
  }
  const method = options.tokenEndpointAuthMethod ?? 'client_secret_basic'
  if (method !== 'client_secret_basic' && method !== 'client_secret_post') {
    throw invalid('upstream.tokenEndpointAuthMethod must be client_secret_basic or client_secret_post')
  }
  if (
    !Array.isArray(options.scopes) ||
    !options.scopes.every((s) => typeof s === 'string' && isValidScopeToken(s))
  ) {
    throw invalid('upstream.scopes must be a list of scope tokens')
  }
  const identity = options.identity
  if (
    typeof identity !== 'object' ||
    identity === null ||
    (identity.from !== 'id_token' && identity.from !== 'userinfo')
  ) {
    throw invalid('upstream.identity must be { from: "id_token" } or { from: "userinfo" }')
  }
  // OIDC Core §3.1.2.1: an ID Token is only issued for the `openid` scope.
  if (identity.from === 'id_token' && !options.scopes.includes('openid')) {
    throw invalid('upstream.identity id_token needs the openid scope')
  }
  let endpoints: UpstreamEndpoints | undefined
  if (options.endpoints !== undefined) {
    const e = options.endpoints
    endpoints = {
      authorization: checkUrl(e.authorization, 'upstream.endpoints.authorization', insecure),
      token: checkUrl(e.token, 'upstream.endpoints.token', insecure),
    }
    if (e.userinfo !== undefined)
      endpoints.userinfo = checkUrl(e.userinfo, 'upstream.endpoints.userinfo', insecure)
    if (e.revocation !== undefined)
      endpoints.revocation = checkUrl(e.revocation, 'upstream.endpoints.revocation', insecure)
    if (e.jwks !== undefined) endpoints.jwks = checkUrl(e.jwks, 'upstream.endpoints.jwks', insecure)
    if (identity.from === 'userinfo' && endpoints.userinfo === undefined) {
      throw invalid('upstream.endpoints.userinfo is required for identity from userinfo')
    }
    if (identity.from === 'id_token' && endpoints.jwks === undefined) {
      throw invalid('upstream.endpoints.jwks is required for identity from id_token')
    }
  }
  const authorizationParams = { ...(options.authorizationParams ?? {}) }
  for (const [name, value] of Object.entries(authorizationParams)) {
    if (RESERVED_AUTHORIZATION_PARAMS.has(name) || typeof value !== 'string') {
      throw invalid(`upstream.authorizationParams may not set ${name}`)
    }
  }
  const callbackPath = options.callbackPath ?? '/upstream/callback'
  if (!/^\/[A-Za-z0-9/_.-]*$/.test(callbackPath) || callbackPath.includes('..')) {
    throw invalid('upstream.callbackPath must be a plain absolute path')
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function')
    throw invalid('upstream.fetch must be a function')
  return {
    name: options.name,
    issuer,
    endpoints,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    tokenEndpointAuthMethod: method,
    scopes: [...options.scopes],
    authorizationParams,
    identity,
    issParameterSupported: options.issParameterSupported,
    allowInsecureLoopback: insecure,
    fetch: options.fetch ?? ((input, init) => globalThis.fetch(input, init)),
    callbackPath,
  }
}
