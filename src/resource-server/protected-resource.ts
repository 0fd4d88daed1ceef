/**
 * `protectedResource()`: an MCP server as an OAuth 2.0 protected resource. It serves its
 * Protected Resource Metadata and turns each request into a verified `AuthInfo` or a ready
 * `401` / `403` / `400` answer.
 *
 * @see [MCP Authorization](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization)
 * @see [RFC 9728](https://www.rfc-editor.org/rfc/rfc9728)
 * @see [RFC 6750](https://www.rfc-editor.org/rfc/rfc6750)
 * @module
 */

import {
  type ProtectedResourceMetadata,
  validateProtectedResourceMetadata,
} from '../protocol/protected-resource-metadata.js'
import { audienceMatches } from '../protocol/resource.js'
import { expandScopes, isValidScopeToken } from '../protocol/scope.js'
import { protectedResourceMetadataUrl } from '../protocol/well-known.js'
import type { AuthInfo, VerifiedToken, Verifier } from './auth-info.js'
import {
  DEFAULT_MAX_AUTHORIZATION_LENGTH,
  parseAuthorizationHeader,
  type RequestHead,
  tokenOutsideHeader,
} from './bearer-token.js'
import {
  bodyTooLargeResponse,
  type ChallengeContext,
  insufficientScopeResponse,
  invalidRequestResponse,
  invalidTokenResponse,
  missingTokenResponse,
  unavailableResponse,
} from './challenge.js'
import { invalidOptions, TokenVerificationError } from './errors.js'
import { type MetadataEndpoint, metadataResponse, PRM_ROOT_PATH, pathAndQuery } from './metadata.js'
import { checkSecureUrl, requiredResource } from './option-checks.js'
import { BODY_TOO_LARGE, compileScopePolicy, type ScopePolicy, scopesForRequest } from './scope-policy.js'
import { TokenCache, type TokenCacheOptions, tokenKeyFunction } from './token-cache.js'

/** Options of {@link protectedResource}. */
export interface ProtectedResourceOptions {
  /**
   * This MCP server's canonical resource identifier (REQUIRED), e.g. `https://mcp.example.com/mcp`:
   * what clients send as `resource` and what tokens must carry in `aud`. It must already be in
   * canonical form (lower-case scheme and host, no default port, no fragment).
   */
  resource: string
  /** Issuer identifiers of the authorization servers (REQUIRED, at least one; MCP). */
  authorizationServers: readonly string[]
  /** The token verifier (REQUIRED): {@link jwtVerifier}, {@link introspectionVerifier} or your own. */
  verifier: Verifier
  /** Which scopes each request needs. Default: none beyond a valid token for this resource. */
  scopes?: ScopePolicy
  /**
   * `scopes_supported` in the metadata: the minimal baseline a client should ask for first.
   * Default: the policy's `default` set. `offline_access` is refused (MCP 2026-07-28, SEP-2207).
   */
  scopesSupported?: readonly string[]
  /** `resource_name` in the metadata. */
  resourceName?: string
  /** `resource_documentation` in the metadata (an `https` URL). */
  resourceDocumentation?: string
  /** Further metadata members (e.g. `resource_policy_uri`). Cannot override the ones above. */
  extraMetadata?: Readonly<Record<string, unknown>>
  /**
   * Also serve the metadata at the root well-known URL (`/.well-known/oauth-protected-resource`),
   * for clients on the older fallback. Use it only when this is the host's only protected
   * resource. Default false.
   */
  serveRootMetadata?: boolean
  /** `Cache-Control` of the metadata. Default `public, max-age=3600`. */
  metadataCacheControl?: string
  /** `realm` in the challenges. */
  realm?: string
  /** The verified-token cache; `false` verifies every request. */
  cache?: TokenCacheOptions | false
  /** Largest body read to apply per-method or per-tool scopes, in bytes. Default 4 MiB. */
  maxBodyBytes?: number
  /** Largest `Authorization` header accepted, in characters. Default 16 KiB. */
  maxAuthorizationLength?: number
  /** Accept an `http:` resource on a non-loopback host (behind a TLS-terminating proxy). Default false. */
  allowInsecureResource?: boolean
  /** Called for every refused request, with the reason; for logs and metrics. Never sees the token. */
  onReject?: (event: RejectEvent) => void
  /** The clock, in milliseconds since the epoch. For tests. */
  now?: () => number
}

/** What `onReject` receives. */
export interface RejectEvent {
  status: number
  /** `missing_token`, `invalid_request`, `invalid_token`, `insufficient_scope`, `body_too_large`, `unavailable`. */
  reason: string
  /** For `invalid_token` and `unavailable`: the verifier's error (its `code` says which check). */
  error?: TokenVerificationError
  /** For `invalid_request`: which rule the credentials broke. */
  detail?: string
  /** The scopes the operation needed. */
  requiredScopes?: readonly string[]
}

/** A configured protected resource. */
export interface ProtectedResource {
  /** The canonical resource identifier. */
  readonly resource: string
  /** The path-suffixed Protected Resource Metadata URL (RFC 9728 §3.1). */
  readonly metadataUrl: string
  /** The metadata document served. */
  readonly metadataDocument: ProtectedResourceMetadata
  /**
   * The metadata response when `request` is for a metadata URL, else `undefined` (so it composes
   * with any router).
   */
  metadata(request: Request): Promise<Response | undefined>
  /**
   * The verified `AuthInfo`, or the `Response` to send: `401` (no token, or an invalid one),
   * `403 insufficient_scope`, `400 invalid_request`, `413`, or `503` when the token cannot be
   * judged. The request body is left unread. The `AuthInfo` is frozen: a hot token's result is
   * shared by every request that carries it.
   *
   * `head`, for adapters: the `Authorization` and `Content-Type` values when they are at hand
   * without going through `request.headers` (see `honoNodeHead` in `portcullis/node`). They
   * must be the request's own, every field line included.
   */
  authenticate(request: Request, head?: RequestHead): Promise<Readonly<AuthInfo> | Response>
}

interface CacheEntry {
  /** The `Authorization` value the token came in; a request is a hit only if it sends the same. */
  credential: string
  /** Returned as is for every request with the same token; frozen so no handler can alter it. */
  auth: Readonly<AuthInfo>
  /** The granted scopes with everything they imply, computed once. */
  granted: ReadonlySet<string>
  /** Whether `granted` covers the policy's default set (most requests need exactly that). */
  coversDefault: boolean
}

/**
 * Builds a protected resource. Every option is checked here, so a misconfiguration fails at
 * start-up and never opens a door at request time: a resource that is not canonical, no
 * authorization server, no verifier, `offline_access` among the scopes, or an invalid scope.
 *
 * @example
 * ```ts
 * const rs = protectedResource({
 *   resource: 'https://mcp.example.com/mcp',
 *   authorizationServers: ['https://auth.example.com'],
 *   verifier: jwtVerifier({ issuer: 'https://auth.example.com', audience: 'https://mcp.example.com/mcp' }),
 *   scopes: { default: ['files:read'], tools: { delete_file: ['files:write'] } },
 * })
 * export default {
 *   async fetch(request: Request) {
 *     const metadata = await rs.metadata(request)
 *     if (metadata) return metadata
 *     const auth = await rs.authenticate(request)
 *     if (auth instanceof Response) return auth
 *     return handleMcp(request, auth)
 *   },
 * }
 * ```
 * @throws {ResourceServerError} `ERR_INVALID_OPTIONS`
 * @see [RFC 9728 §2](https://www.rfc-editor.org/rfc/rfc9728#section-2)
 * @see [MCP Authorization: Token Handling](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-handling)
 */
export function protectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const resource = requiredResource(options?.resource, 'protectedResource: resource')
  if (resource !== options.resource) {
    invalidOptions(
      'protectedResource: resource must be given in canonical form',
      `canonical form: ${resource}`,
    )
  }
  if (options.allowInsecureResource !== true) checkSecureUrl(resource, 'protectedResource: resource')
  const verifier = options.verifier
  if (typeof verifier?.verify !== 'function') invalidOptions('protectedResource: verifier is required')

  const policy = compileScopePolicy(options.scopes ?? { default: [] })
  const scopesSupported = [...(options.scopesSupported ?? policy.default)]
  for (const scope of scopesSupported) {
    if (typeof scope !== 'string' || !isValidScopeToken(scope))
      invalidOptions('protectedResource: invalid scope in scopesSupported')
  }
  // MCP 2026-07-28 (SEP-2207): refresh is not a resource requirement; never advertise offline_access.
  if (scopesSupported.includes('offline_access')) {
    invalidOptions('protectedResource: offline_access must not be in scopesSupported')
  }

  const extra = { ...(options.extraMetadata ?? {}) }
  const document: ProtectedResourceMetadata = {
    ...extra,
    resource,
    authorization_servers: [...(options.authorizationServers ?? [])],
    bearer_methods_supported: ['header'],
  }
  if (scopesSupported.length > 0) document.scopes_supported = [...new Set(scopesSupported)]
  if (options.resourceName !== undefined) document.resource_name = options.resourceName
  if (options.resourceDocumentation !== undefined) {
    checkSecureUrl(options.resourceDocumentation, 'protectedResource: resourceDocumentation')
    document.resource_documentation = options.resourceDocumentation
  }
  let metadataDocument: ProtectedResourceMetadata
  try {
    // The same checks a client applies (S-2: at least one authorization server).
    metadataDocument = validateProtectedResourceMetadata(document, { expectedResource: resource })
  } catch (error) {
    invalidOptions('protectedResource: the metadata would be invalid', (error as Error).message)
  }
  for (const issuer of metadataDocument.authorization_servers ?? [])
    checkSecureUrl(issuer, 'protectedResource: authorizationServers')

  const metadataUrl = protectedResourceMetadataUrl(resource)
  const paths = new Set([pathAndQuery(metadataUrl)])
  if (options.serveRootMetadata === true) paths.add(PRM_ROOT_PATH)
  const endpoint: MetadataEndpoint = {
    paths,
    body: JSON.stringify(metadataDocument),
    cacheControl: options.metadataCacheControl ?? 'public, max-age=3600',
  }

  const context: ChallengeContext = {
    resourceMetadataUrl: metadataUrl,
    ...(options.realm === undefined ? {} : { realm: options.realm }),
  }
  const now = options.now ?? Date.now
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024
  const maxAuthorizationLength = options.maxAuthorizationLength ?? DEFAULT_MAX_AUTHORIZATION_LENGTH
  const cacheOptions = options.cache === false ? { maxEntries: 0 } : (options.cache ?? {})
  const cache = new TokenCache<CacheEntry, number>(cacheOptions.maxEntries ?? 10_000)
  const cacheEnabled = (cacheOptions.maxEntries ?? 10_000) > 0
  const cacheSeconds = Math.min(
    cacheOptions.maxAgeSeconds ?? 300,
    verifier.maxCacheAgeSeconds ?? Number.POSITIVE_INFINITY,
  )
  const tokenKey = tokenKeyFunction()
  const onReject = options.onReject

  const reject = (response: Response, event: RejectEvent): Response => {
    onReject?.(event)
    return response
  }

  const verify = async (token: string, credential: string): Promise<CacheEntry> => {
    const verified: VerifiedToken = await verifier.verify(token)
    // Checked here too, whatever the verifier: a token for another resource never passes (S-8, S-20).
    if (!audienceMatches(verified.audience, resource)) {
      throw new TokenVerificationError('ERR_AUDIENCE', { detail: 'aud does not name this resource' })
    }
    const auth: AuthInfo = { ...verified, token, resource }
    Object.freeze(auth.scopes)
    Object.freeze(auth.audience)
    const granted = expandScopes(verified.scopes, policy.hierarchy)
    const coversDefault = policy.default.every((scope) => granted.has(scope))
    return { credential, auth: Object.freeze(auth), granted, coversDefault }
  }

  return {
    resource,
    metadataUrl,
    metadataDocument,
    async metadata(request) {
      return metadataResponse(endpoint, request)
    },
    async authenticate(request, head) {
      // OAuth 2.1 §5.2 / RFC 6750 §2: only the Authorization header is accepted.
      const found = tokenOutsideHeader(
        request,
        head === undefined ? request.headers.get('content-type') : head.contentType,
      )
      const elsewhere = found === undefined || typeof found === 'string' ? found : await found
      if (elsewhere !== undefined) {
        return reject(invalidRequestResponse(context), {
          status: 400,
          reason: 'invalid_request',
          detail: elsewhere,
        })
      }
      const value = head === undefined ? request.headers.get('authorization') : head.authorization
      const at = now()
      // The hot path: a credential verified before is found by its key and was well-formed
      // then, so its syntax is checked only on a miss (`parseAuthorizationHeader`).
      let entry: CacheEntry | undefined
      let key: number | undefined
      if (cacheEnabled && value !== null && value.length <= maxAuthorizationLength) {
        key = tokenKey(value)
        entry = cache.get(key, at)
        // The key is a lookup aid: only the very same credential is a hit (see tokenKeyFunction).
        if (entry !== undefined && entry.credential !== value) entry = undefined
      }
      // On a miss, the token to verify; `undefined` with no entry means no bearer token at all.
      let token: string | undefined
      if (entry === undefined) {
        const credentials = parseAuthorizationHeader(value, maxAuthorizationLength)
        if (credentials.kind === 'invalid') {
          return reject(invalidRequestResponse(context), {
            status: 400,
            reason: 'invalid_request',
            detail: credentials.reason,
          })
        }
        if (credentials.kind === 'token') token = credentials.token
      }
      // Without per-method or per-tool entries the body is never looked at (hot path).
      const required = policy.readsBody
        ? await scopesForRequest(request, policy, maxBodyBytes)
        : policy.default
      if (required === BODY_TOO_LARGE)
        return reject(bodyTooLargeResponse(), { status: 413, reason: 'body_too_large' })
      if (entry === undefined) {
        if (token === undefined) {
          return reject(missingTokenResponse(context, required), {
            status: 401,
            reason: 'missing_token',
            requiredScopes: required,
          })
        }
        try {
          entry = await verify(token, value!)
        } catch (error) {
          if (!(error instanceof TokenVerificationError)) throw error
          if (error.unavailable) {
            return reject(unavailableResponse(), { status: 503, reason: 'unavailable', error })
          }
          return reject(invalidTokenResponse(context, required), {
            status: 401,
            reason: 'invalid_token',
            error,
            requiredScopes: required,
          })
        }
        if (key !== undefined) {
          const expiresAt = entry.auth.expiresAt
          const until = Math.min(
            at + cacheSeconds * 1000,
            expiresAt === undefined ? Number.POSITIVE_INFINITY : expiresAt * 1000,
          )
          cache.set(key, entry, until)
        }
      }
      const { auth, granted } = entry
      if (auth.expiresAt !== undefined && auth.expiresAt * 1000 <= at) {
        const error = new TokenVerificationError('ERR_EXPIRED', { detail: 'exp in the past' })
        return reject(invalidTokenResponse(context, required), {
          status: 401,
          reason: 'invalid_token',
          error,
        })
      }
      // D-S4: the grant is expanded through the hierarchy before comparing.
      const enough =
        required === policy.default ? entry.coversDefault : required.every((scope) => granted.has(scope))
      if (!enough) {
        // D-S3: every scope the operation needs, in one challenge.
        return reject(insufficientScopeResponse(context, required), {
          status: 403,
          reason: 'insufficient_scope',
          requiredScopes: required,
        })
      }
      return auth
    },
  }
}
