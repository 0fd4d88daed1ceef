/**
 * Options of {@link createAuthorizationServer} and their resolution. Everything that has no safe
 * default is required, and bad configuration throws at construction, never at request time.
 *
 * @module
 */
import type { JSONWebKeySet } from 'jose'
import type { ClientMetadata } from '../protocol/client-metadata.js'
import { canonicalResource } from '../protocol/resource.js'
import { isValidScopeToken } from '../protocol/scope.js'
import type { Store } from '../storage/types.js'
import type { AuditEvent } from './audit.js'
import { AuthorizationServerError } from './errors.js'
import type { JwtSigner, RandomToken } from './tokens.js'

/** A user as the login hook knows them. `subject` becomes the token's `sub`. */
export interface LoginUser {
  subject: string
  name?: string
}

/** What an upstream login reports when the provider sends the browser back. */
export type UpstreamCompletion =
  | { transactionId: string; user: LoginUser; grantId: string; setCookies: string[] }
  | {
      transactionId: string
      error: 'access_denied' | 'temporarily_unavailable' | 'server_error'
      setCookies: string[]
    }

/**
 * Login at an upstream identity provider (the proxy): after the user approves the consent page,
 * `begin` sends the browser to the provider; the provider returns to `callbackPath` (under the
 * issuer), where `complete` says who the user is and under which grant id the upstream tokens are
 * kept.
 */
export interface UpstreamLogin {
  /** The provider's name, shown on the consent page ("you will sign in with GitHub next"). */
  name: string
  /** Path of the callback, relative to the issuer, e.g. `/upstream/callback`. */
  callbackPath: string
  /** `form-action` sources the consent page needs to let the browser go on to the provider. */
  formActionSources(): Promise<string[]>
  /** The redirect to the provider for an approved transaction. */
  begin(input: { transactionId: string }): Promise<Response>
  /** Handles the provider's callback: a page to show as it is, or the outcome for the transaction. */
  complete(request: Request): Promise<Response | UpstreamCompletion>
  /** Drops what `complete` kept under `grantId` when the authorization ends without a code. */
  discard(grantId: string): Promise<void>
  /** Extra claims for access tokens of this grant (e.g. the upstream issuer and subject). */
  accessTokenClaims(grantId: string): Promise<Record<string, unknown> | undefined>
}

/**
 * How users log in. Exactly one of the forms:
 * - `authenticate`: Portcullis shows its login page and calls the hook with the posted credentials
 *   (the built-in `localAccounts()` provider fits here);
 * - `currentUser`: the host application already knows who is signed in (its own session cookie);
 *   `loginUrl` says where to send a browser that is not signed in yet.
 */
export type LoginOptions =
  | {
      authenticate(credentials: { username: string; password: string }): Promise<LoginUser | undefined>
    }
  | {
      currentUser(request: Request): Promise<LoginUser | undefined>
      /** Where to send a browser that is not signed in; `returnTo` is the authorization URL to come back to. */
      loginUrl?(returnTo: string): string
    }
  | { upstream: UpstreamLogin }

/** A protected resource (an MCP server) tokens are issued for. */
export interface ResourceOptions {
  /** The resource identifier (RFC 8707 / RFC 9728), e.g. `https://mcp.example.com/mcp`. Becomes the token's `aud`. */
  uri: string
  /** Shown on the consent page. */
  name?: string
  /** Its scopes, each with the description shown on the consent page. */
  scopes: Record<string, string>
  /** Granted when a request names no scope. Default: every scope of the resource. */
  defaultScopes?: string[]
}

/** Lifetimes, in seconds. */
export interface LifetimeOptions {
  /** Access tokens. Default 3600 (OAuth 2.1 §7.1: short-lived). */
  accessToken?: number
  /** Refresh tokens, renewed by every rotation. Default 30 days. */
  refreshToken?: number
  /** Absolute end of a grant (the refresh-token family). Default 90 days. */
  grant?: number
  /** Authorization codes. Default 60 (RFC 6749 §4.1.2: "maximum … of 10 minutes is RECOMMENDED"). */
  code?: number
  /** Pending authorization transactions (login and consent). Default 600. */
  transaction?: number
  /** Idle expiry of dynamically registered clients, moved on use. Default 30 days. */
  registrationIdle?: number
  /** Remembered consent. Default 30 days. */
  consent?: number
  /** The login session cookie of the `authenticate` login form. Default 8 hours. */
  session?: number
}

/** Dynamic Client Registration policy (RFC 7591). */
export interface RegistrationOptions {
  /**
   * - `open`: anyone may register (rate-limited);
   * - `initial-access-token`: a `Bearer` initial access token from `initialAccessTokens` is required (RFC 7591 §3);
   * - `closed`: no registration endpoint.
   */
  mode: 'open' | 'initial-access-token' | 'closed'
  initialAccessTokens?: string[]
  /** Registrations per source address per window, counted in the store. Default 20 per hour; `false` disables. */
  rateLimit?: { max: number; windowMs: number } | false
}

/** Client ID Metadata Documents (CIMD) support. */
export interface CimdOptions {
  /**
   * Fetches documents. MUST be SSRF-safe (refuses private and loopback addresses, no redirects):
   * the Node entry point passes `createSafeFetch()`. Required: there is no safe portable default.
   */
  fetch: (input: string, init?: RequestInit) => Promise<Response>
  /** Lower bound of the cache lifetime, whatever the response says. Default 60 s. */
  cacheMinMs?: number
  /** Upper bound of the cache lifetime. Default 24 h (SEP-991). */
  cacheMaxMs?: number
  /** Cache lifetime when the response has no `max-age`. Default 5 min. */
  cacheDefaultMs?: number
  /** Total time for one fetch. Default 5 s. */
  timeoutMs?: number
  /** When set, only these hosts (exact, lower case) may serve documents. */
  allowHosts?: string[]
}

/** A pre-registered client. */
export interface StaticClientOptions extends ClientMetadata {
  client_id: string
  /** For confidential clients using `client_secret_basic` / `client_secret_post`. Kept only as a hash. */
  client_secret?: string
}

/** A trusted issuer of Identity Assertion JWT Authorization Grants (ID-JAG). */
export interface IdJagIssuerOptions {
  issuer: string
  /** The issuer's public keys, or… */
  jwks?: JSONWebKeySet
  /** …where to fetch them (with `fetch`). */
  jwksUri?: string
}

/** Options of {@link createAuthorizationServer}. */
export interface AuthorizationServerOptions {
  /**
   * The issuer identifier, exactly as clients will compare it (RFC 8414 §3.3, RFC 9207): https (http
   * only for loopback), no query, no fragment. Its path, if any, prefixes every endpoint.
   */
  issuer: string
  /** Where every piece of state lives; share it between replicas. */
  store: Store
  /** The protected resources. At least one. */
  resources: ResourceOptions[]
  /** The resource used when an authorization request names none. Default: none (the parameter is then required). */
  defaultResource?: string
  /** How users log in. */
  login: LoginOptions
  /**
   * Secret for the CSRF and login-session cookies: at least 32 characters, shared by all replicas.
   * (Signing keys are encrypted by the store with its own `encryptionKey`.)
   */
  cookieSecret: string
  lifetimes?: LifetimeOptions
  /** Default `{ mode: 'open', rateLimit: { max: 20, windowMs: 3_600_000 } }`. */
  registration?: RegistrationOptions
  /** Client ID Metadata Documents; omitted or `false` means disabled. */
  cimd?: CimdOptions | false
  /** Pre-registered clients. */
  clients?: StaticClientOptions[]
  /** Remembered consent: offered on the consent page unless `false`. Default `true`. */
  rememberConsent?: boolean
  /**
   * Fetch for client `jwks_uri` documents (private_key_jwt) and ID-JAG issuer JWKS. Without it,
   * clients that register a `jwks_uri` cannot authenticate. Use an SSRF-safe fetch.
   */
  fetch?: (input: string, init?: RequestInit) => Promise<Response>
  /** Accept ID-JAGs (`urn:ietf:params:oauth:grant-type:jwt-bearer`) from these enterprise IdPs. */
  idJag?: { issuers: IdJagIssuerOptions[] }
  /** Milliseconds since the epoch. Default `Date.now`. */
  clock?: () => number
  /** Receives every audit event. Default: one JSON line per event on `console.log`. */
  onAudit?: (event: AuditEvent) => void | Promise<void>
  /** The request's source address, for rate limits (the Node entry point passes the socket address). */
  getClientAddress?: (request: Request) => string | undefined
  /** Take the source address from the last `X-Forwarded-For` entry (behind one trusted proxy). Default `false`. */
  trustProxy?: boolean
  /**
   * SHA-256 of UTF-8 text as base64url without padding: how codes, refresh tokens and client secrets
   * are hashed for the store. Default: Web Crypto. The Node entry point passes `node:crypto`'s
   * synchronous hash, which saves a thread-pool round trip per call. Must give the same output.
   */
  sha256?: (text: string) => string | Promise<string>
  /**
   * Signs access tokens (JWS Compact Serialization). Default: jose on Web Crypto. The Node entry
   * point passes a synchronous `node:crypto` signer, which saves a thread-pool round trip per token.
   * Must produce a JWS any JOSE library verifies with the published key.
   */
  signJwt?: JwtSigner
  /**
   * Makes the random tokens of the token endpoint (refresh tokens, authorization codes, `jti`s):
   * `byteLength` bytes from a cryptographically secure generator, base64url. Default: Web Crypto's
   * `getRandomValues`, one call per token; the Node entry point draws from a pooled `node:crypto`
   * buffer instead.
   */
  randomToken?: RandomToken
  /** How long signing keys are cached in process before the store is read again. Default 30 s. */
  keyCacheMs?: number
}

/** A resource after validation. */
export interface ResolvedResource {
  uri: string
  canonical: string
  name: string | undefined
  scopes: ReadonlyMap<string, string>
  defaultScopes: string[]
}

/** Lifetimes in milliseconds, resolved. */
export interface ResolvedLifetimes {
  accessToken: number
  refreshToken: number
  grant: number
  code: number
  transaction: number
  registrationIdle: number
  consent: number
  session: number
}

const DAY = 86_400

function invalid(message: string): AuthorizationServerError {
  return new AuthorizationServerError('ERR_INVALID_OPTIONS', message)
}

/** Checks the issuer per RFC 8414 §2 and returns it unchanged. */
export function validateIssuer(issuer: unknown): string {
  if (typeof issuer !== 'string' || issuer === '') throw invalid('issuer is required')
  let url: URL
  try {
    url = new URL(issuer)
  } catch {
    throw invalid('issuer must be an absolute URL')
  }
  // RFC 8414 §2: https scheme, no query or fragment.
  if (url.search !== '' || url.hash !== '' || issuer.includes('?') || issuer.includes('#')) {
    throw invalid('issuer must not have a query or fragment')
  }
  const loopback = url.hostname === 'localhost' || url.hostname === '127.0.0.1' || url.hostname === '[::1]'
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback)) {
    throw invalid('issuer must be https (http only for loopback)')
  }
  if (url.username !== '' || url.password !== '') throw invalid('issuer must not contain userinfo')
  return issuer
}

/** Checks the secret of the CSRF and login-session cookies: at least 32 characters. */
export function validateCookieSecret(secret: unknown): string {
  if (typeof secret !== 'string' || secret.length < 32) {
    throw invalid('cookieSecret of at least 32 characters is required')
  }
  return secret
}

/** Validates the resources and their scopes. */
export function resolveResources(resources: unknown): ResolvedResource[] {
  if (!Array.isArray(resources) || resources.length === 0) throw invalid('at least one resource is required')
  const seen = new Set<string>()
  return resources.map((r: ResourceOptions, index) => {
    if (typeof r !== 'object' || r === null || typeof r.uri !== 'string') {
      throw invalid(`resources[${index}].uri is required`)
    }
    let canonical: string
    try {
      canonical = canonicalResource(r.uri)
    } catch {
      throw invalid(`resources[${index}].uri is not a valid resource identifier`)
    }
    if (seen.has(canonical)) throw invalid(`resources[${index}] is listed twice`)
    seen.add(canonical)
    if (typeof r.scopes !== 'object' || r.scopes === null)
      throw invalid(`resources[${index}].scopes is required`)
    const scopes = new Map<string, string>()
    for (const [name, description] of Object.entries(r.scopes)) {
      if (!isValidScopeToken(name)) throw invalid(`resources[${index}] has an invalid scope name`)
      scopes.set(name, String(description))
    }
    const defaultScopes = r.defaultScopes ?? [...scopes.keys()]
    for (const s of defaultScopes) {
      if (!scopes.has(s)) throw invalid(`resources[${index}].defaultScopes names an unknown scope`)
    }
    return { uri: r.uri, canonical, name: r.name, scopes, defaultScopes }
  })
}

function seconds(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback
  if (!Number.isFinite(v) || v <= 0) throw invalid(`lifetimes.${name} must be a positive number of seconds`)
  return Math.round(v * 1000)
}

/** Lifetimes in milliseconds, with defaults. */
export function resolveLifetimes(lifetimes: LifetimeOptions = {}): ResolvedLifetimes {
  return {
    accessToken: seconds(lifetimes.accessToken, 3600, 'accessToken'),
    refreshToken: seconds(lifetimes.refreshToken, 30 * DAY, 'refreshToken'),
    grant: seconds(lifetimes.grant, 90 * DAY, 'grant'),
    code: seconds(lifetimes.code, 60, 'code'),
    transaction: seconds(lifetimes.transaction, 600, 'transaction'),
    registrationIdle: seconds(lifetimes.registrationIdle, 30 * DAY, 'registrationIdle'),
    consent: seconds(lifetimes.consent, 30 * DAY, 'consent'),
    session: seconds(lifetimes.session, 8 * 3600, 'session'),
  }
}

/** Checks the login option: exactly one form. */
export function validateLogin(login: unknown): LoginOptions {
  if (typeof login !== 'object' || login === null) throw invalid('login is required')
  const upstream = (login as { upstream?: Partial<UpstreamLogin> }).upstream
  const forms = [
    typeof (login as { authenticate?: unknown }).authenticate === 'function',
    typeof (login as { currentUser?: unknown }).currentUser === 'function',
    upstream !== undefined,
  ].filter(Boolean).length
  if (forms !== 1) {
    throw invalid('login needs exactly one of authenticate(credentials), currentUser(request) or upstream')
  }
  if (
    upstream !== undefined &&
    (typeof upstream.begin !== 'function' ||
      typeof upstream.complete !== 'function' ||
      typeof upstream.callbackPath !== 'string' ||
      !/^\/[A-Za-z0-9/_.-]*$/.test(upstream.callbackPath) ||
      upstream.callbackPath.includes('..'))
  ) {
    throw invalid('login.upstream needs begin, complete and a plain callbackPath')
  }
  return login as LoginOptions
}

/** Registration policy with defaults. */
export function resolveRegistration(registration: RegistrationOptions | undefined): RegistrationOptions {
  const r = registration ?? { mode: 'open' }
  if (!['open', 'initial-access-token', 'closed'].includes(r.mode))
    throw invalid('registration.mode is invalid')
  if (r.mode === 'initial-access-token') {
    const tokens = r.initialAccessTokens ?? []
    if (tokens.length === 0 || tokens.some((t) => typeof t !== 'string' || t.length < 16)) {
      throw invalid('registration.initialAccessTokens needs tokens of at least 16 characters')
    }
  }
  const rateLimit = r.rateLimit === undefined ? { max: 20, windowMs: 3_600_000 } : r.rateLimit
  if (rateLimit !== false && (!(rateLimit.max > 0) || !(rateLimit.windowMs > 0))) {
    throw invalid('registration.rateLimit needs positive max and windowMs')
  }
  return { ...r, rateLimit }
}
