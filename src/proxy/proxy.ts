/**
 * `createOAuthProxy`: an authorization server towards MCP clients (metadata, DCR, CIMD, authorize,
 * token, revoke, introspect, JWKS: the embedded authorization server as it is) whose users sign
 * in at a third-party identity provider (GitHub, Google, any OpenID Connect provider) through one
 * static client.
 *
 * What keeps it from being a confused deputy or a token-passthrough hole:
 * - our consent page comes first, for every (client, redirect URI), before anything goes upstream
 *   (anchors S13); remembered consent only on same-origin or direct navigations (S16);
 * - approving needs the CSRF token tied to this browser's cookie (S15) and sets a signed,
 *   per-transaction binding cookie that the provider's callback must carry (S14);
 * - the proxy's own PKCE, `state`, `nonce` and exact callback URI towards the provider, `iss`
 *   checked when it supports RFC 9207; the upstream transaction is stored only after consent;
 * - MCP clients get our own tokens (`aud` = the MCP resource), never the upstream ones; upstream
 *   tokens stay encrypted in the store, are refreshed upstream and revoked upstream with the grant;
 * - the upstream client secret never leaves the server (DCR answers carry the registering
 *   client's own credentials only).
 *
 * @see [MCP Authorization: Third-Party Authorization Flow](https://modelcontextprotocol.io/specification/2025-03-26/basic/authorization#2-10-third-party-authorization-flow)
 * @see [MCP Security Best Practices: Confused Deputy](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem)
 * @see [MCP Security Best Practices: Token Passthrough](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#token-passthrough)
 * @module
 */

import type { AuditEvent } from '../authorization-server/audit.js'
import { consoleAudit } from '../authorization-server/audit.js'
import {
  type AuthorizationServerOptions,
  resolveLifetimes,
  validateCookieSecret,
  validateIssuer,
} from '../authorization-server/options.js'
import { type AuthorizationServer, createAuthorizationServer } from '../authorization-server/server.js'
import { GRANT_ID_CLAIM } from '../authorization-server/tokens.js'
import { createBindingCookie } from './binding-cookie.js'
import { ProxyError } from './errors.js'
import type { UpstreamIdentity } from './identity.js'
import { createUpstreamLogin } from './upstream-login.js'
import { createUpstreamMetadata } from './upstream-metadata.js'
import { resolveUpstream, type UpstreamOptions } from './upstream-options.js'
import { createUpstreamTokenVault, type UpstreamAccessToken } from './upstream-tokens.js'

/** Options of {@link createOAuthProxy}: the authorization server's, with an upstream provider instead of a login. */
export interface OAuthProxyOptions extends Omit<AuthorizationServerOptions, 'login'> {
  /** The identity provider users sign in at; see the presets `github()`, `google()`, `oidc()`. */
  upstream: UpstreamOptions
  /** Our tokens' `sub` for an upstream identity. Default: the provider's subject as it is. */
  subject?: (identity: UpstreamIdentity) => string
  /** Refresh the upstream access token this long before it expires. Default 60 000 ms. */
  upstreamRefreshSkewMs?: number
}

/**
 * The verified identity the MCP server's handler received: Portcullis's `AuthInfo`
 * (`claims`) or the MCP SDK's (`extra.claims`, as `toSdkAuthInfo` builds it).
 */
export interface AuthInfoLike {
  clientId: string
  claims?: Record<string, unknown>
  extra?: Record<string, unknown>
}

/** What {@link createOAuthProxy} returns. */
export interface OAuthProxy extends AuthorizationServer {
  /** The exact redirect URI to register at the provider (`<issuer><callbackPath>`). */
  readonly callbackUrl: string
  /**
   * The upstream access token of the grant behind `authInfo` (an access token this proxy issued
   * and the resource server verified), refreshed upstream when it is about to expire. For the MCP
   * server's own calls to the provider's API; never hand it to the MCP client.
   *
   * @throws {ProxyError} `ERR_NO_UPSTREAM_TOKEN` when the token is not ours, revoked, or its grant
   *   has ended; `ERR_UPSTREAM_TOKEN` when an upstream refresh fails
   */
  upstreamTokenFor(authInfo: AuthInfoLike): Promise<UpstreamAccessToken>
  /** The upstream identity behind `authInfo` (no token). Same checks as {@link upstreamTokenFor}. */
  upstreamIdentityFor(authInfo: AuthInfoLike): Promise<UpstreamIdentity>
  /** Resolves when background upstream work (revocations after a grant ended) has finished. */
  drain(): Promise<void>
}

function claimsOf(authInfo: AuthInfoLike): Record<string, unknown> | undefined {
  if (typeof authInfo !== 'object' || authInfo === null) return undefined
  if (typeof authInfo.claims === 'object' && authInfo.claims !== null) return authInfo.claims
  const extra = authInfo.extra?.['claims']
  return typeof extra === 'object' && extra !== null ? (extra as Record<string, unknown>) : undefined
}

/**
 * Creates the proxy. Throws `ProxyError` or `AuthorizationServerError` `ERR_INVALID_OPTIONS` at
 * once when the configuration is incomplete or unsafe.
 *
 * @example
 * ```ts
 * const proxy = createOAuthProxy({
 *   issuer: 'https://mcp.example.com',
 *   store,
 *   resources: [{ uri: 'https://mcp.example.com/mcp', scopes: { 'mcp:tools': 'Use the tools' } }],
 *   cookieSecret: process.env.COOKIE_SECRET!,
 *   upstream: github({ clientId: process.env.GITHUB_CLIENT_ID!, clientSecret: process.env.GITHUB_CLIENT_SECRET! }),
 * })
 * ```
 *
 * @see [MCP Authorization §Third-Party Authorization](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#confused-deputy-problem)
 */
export function createOAuthProxy(options: OAuthProxyOptions): OAuthProxy {
  if (typeof options !== 'object' || options === null)
    throw new ProxyError('ERR_INVALID_OPTIONS', 'options are required')
  if ('login' in options)
    throw new ProxyError('ERR_INVALID_OPTIONS', 'the proxy signs users in upstream: login is not an option')
  const issuer = validateIssuer(options.issuer)
  const upstream = resolveUpstream(options.upstream)
  validateCookieSecret(options.cookieSecret)
  const store = options.store
  if (typeof store !== 'object' || store === null || typeof store.upstreamTokens?.put !== 'function') {
    throw new ProxyError('ERR_INVALID_OPTIONS', 'store is required')
  }
  const now = options.clock ?? Date.now
  const lifetimes = resolveLifetimes(options.lifetimes)
  const secure = new URL(issuer).protocol === 'https:'
  const callbackUrl = `${issuer.replace(/\/$/, '')}${upstream.callbackPath}`
  const subject = options.subject ?? ((identity: UpstreamIdentity) => identity.subject)

  const metadata = createUpstreamMetadata(upstream)
  const vault = createUpstreamTokenVault({
    upstream,
    metadata,
    store,
    now,
    ...(options.upstreamRefreshSkewMs === undefined ? {} : { refreshSkewMs: options.upstreamRefreshSkewMs }),
  })
  const login = createUpstreamLogin({
    upstream,
    metadata,
    store,
    vault,
    binding: createBindingCookie({ secret: options.cookieSecret, secure }),
    now,
    redirectUri: callbackUrl,
    grantLifetimeMs: lifetimes.grant,
    subject,
    onError(error) {
      // Name, code and detail: never a token or a secret (ProxyError details carry none).
      const code = error instanceof ProxyError ? error.code : undefined
      const detail = error instanceof ProxyError ? error.detail : undefined
      const name = error instanceof Error ? error.name : 'unknown'
      console.error(JSON.stringify({ portcullis: 'proxy', error: name, code, detail }))
    },
  })

  const background = new Set<Promise<unknown>>()
  function track(work: Promise<unknown>): void {
    const settled = work.catch(() => undefined).finally(() => background.delete(settled))
    background.add(settled)
  }

  // The end of a grant reaches the upstream side through the server's audit events: every path
  // that ends one (revocation endpoint, code replay, refresh reuse, administrator) emits
  // `grant.revoked`.
  const userAudit = options.onAudit ?? consoleAudit
  function onAudit(event: AuditEvent): void | Promise<void> {
    if (event.type === 'grant.revoked') track(vault.revoke(event.grant_id))
    return userAudit(event)
  }

  const { upstream: _upstream, subject: _subject, upstreamRefreshSkewMs: _skew, ...serverOptions } = options
  const server = createAuthorizationServer({ ...serverOptions, login: { upstream: login }, onAudit })

  async function grantOf(authInfo: AuthInfoLike): Promise<{ grantId: string; expiresAt: number }> {
    const claims = claimsOf(authInfo)
    const jti = claims?.['jti']
    const exp = claims?.['exp']
    const grantClaim = claims?.[GRANT_ID_CLAIM]
    const none = () => new ProxyError('ERR_NO_UPSTREAM_TOKEN', 'no upstream token for this access token')
    if (claims === undefined || claims['iss'] !== issuer) throw none()
    if (typeof jti !== 'string' || (grantClaim !== undefined && typeof grantClaim !== 'string')) throw none()
    const at = now()
    // The handler may hold on to an AuthInfo; an expired token gets nothing more.
    if (typeof exp !== 'number' || exp * 1000 <= at) throw none()
    const stored = await store.accessTokens.get(jti, at)
    if (stored?.revoked_at !== undefined) throw none()
    // Tokens issued while every token was recorded carry no claim: their row names the grant.
    const grantId = grantClaim ?? stored?.grant_id
    if (grantId === undefined) throw none()
    const grant = await store.grants.get(grantId, at)
    if (grant === undefined || grant.revoked_at !== undefined) throw none()
    // The token's claims must name the grant's own client and user.
    if (
      grant.client_id !== authInfo.clientId ||
      grant.client_id !== claims['client_id'] ||
      grant.subject !== claims['sub']
    ) {
      throw none()
    }
    return { grantId: grant.id, expiresAt: grant.expires_at ?? at + lifetimes.grant }
  }

  async function drain(): Promise<void> {
    while (background.size > 0) await Promise.all([...background])
  }

  return {
    ...server,
    callbackUrl,
    async upstreamTokenFor(authInfo) {
      const { grantId, expiresAt } = await grantOf(authInfo)
      return vault.accessToken(grantId, expiresAt)
    },
    async upstreamIdentityFor(authInfo) {
      const { grantId } = await grantOf(authInfo)
      const record = await vault.get(grantId)
      if (record === undefined)
        throw new ProxyError('ERR_NO_UPSTREAM_TOKEN', 'no upstream identity for this access token')
      return record.identity
    },
    async revokeGrant(grantId) {
      const revoked = await server.revokeGrant(grantId)
      await drain()
      return revoked
    },
    drain,
  }
}
