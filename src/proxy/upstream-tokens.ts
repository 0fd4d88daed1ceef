/**
 * The upstream tokens of a grant: stored encrypted by the store (`store.upstreamTokens`, keyed by
 * our grant id), refreshed at the provider when the access token is about to expire, and revoked
 * at the provider (RFC 7009, when it has a revocation endpoint) when the grant ends.
 *
 * They never leave the server except through {@link UpstreamTokenVault.accessToken}, which hands
 * the access token (never the refresh token) to the MCP server's own code.
 *
 * @see [MCP Security Best Practices: Token Passthrough](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#token-passthrough)
 * @see [MCP Authorization: Third-party authorization](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#access-token-privilege-restriction) separate upstream tokens
 * @module
 */
import * as oauth from 'oauth4webapi'
import { revokeToken } from '../client/token.js'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import type { JsonObject, Store } from '../storage/types.js'
import { ProxyError } from './errors.js'
import type { UpstreamIdentity } from './identity.js'
import type { UpstreamTokenResponse } from './upstream-authorization.js'
import { upstreamTokenError } from './upstream-authorization.js'
import {
  asClient,
  asServer,
  upstreamClientAuth,
  upstreamRequestOptions,
  upstreamTokenContext,
} from './upstream-client.js'
import type { ResolvedUpstream } from './upstream-options.js'

/** What is kept per grant (encrypted at rest by the store). */
export interface UpstreamTokenRecord {
  access_token: string
  token_type: string
  refresh_token?: string
  /** Milliseconds since the epoch. */
  expires_at?: number
  scope?: string
  identity: UpstreamIdentity
  obtained_at: number
}

/** An upstream access token as handed to the MCP server's code. */
export interface UpstreamAccessToken {
  access_token: string
  token_type: string
  /** Milliseconds since the epoch, when the provider said. */
  expires_at?: number
  scope?: string
  /** Who the token acts for at the provider. */
  identity: UpstreamIdentity
}

/** Builds the record from a token response. */
export function upstreamTokenRecord(
  tokens: UpstreamTokenResponse,
  identity: UpstreamIdentity,
  now: number,
  previous?: UpstreamTokenRecord,
): UpstreamTokenRecord {
  const record: UpstreamTokenRecord = {
    access_token: tokens.access_token,
    token_type: tokens.token_type,
    identity,
    obtained_at: now,
  }
  // RFC 6749 §6: without a new refresh token, the previous one stays valid.
  const refresh = tokens.refresh_token ?? previous?.refresh_token
  if (refresh !== undefined) record.refresh_token = refresh
  if (tokens.expires_in !== undefined) record.expires_at = now + tokens.expires_in * 1000
  const scope = tokens.scope ?? previous?.scope
  if (scope !== undefined) record.scope = scope
  return record
}

/** What the MCP server's code is handed: the fields named here, never the refresh token. */
function handedOut(record: UpstreamTokenRecord): UpstreamAccessToken {
  const { access_token, token_type, identity, expires_at, scope } = record
  return {
    access_token,
    token_type,
    identity,
    ...(expires_at === undefined ? {} : { expires_at }),
    ...(scope === undefined ? {} : { scope }),
  }
}

function toJson(record: UpstreamTokenRecord): JsonObject {
  return JSON.parse(JSON.stringify(record)) as JsonObject
}

function fromJson(data: JsonObject | undefined): UpstreamTokenRecord | undefined {
  if (data === undefined) return undefined
  const identity = data['identity'] as JsonObject | undefined
  if (
    typeof data['access_token'] !== 'string' ||
    typeof data['token_type'] !== 'string' ||
    typeof data['obtained_at'] !== 'number' ||
    typeof identity !== 'object' ||
    identity === null ||
    typeof identity['issuer'] !== 'string' ||
    typeof identity['subject'] !== 'string'
  ) {
    return undefined
  }
  const record: UpstreamTokenRecord = {
    access_token: data['access_token'],
    token_type: data['token_type'],
    obtained_at: data['obtained_at'],
    identity:
      typeof identity['name'] === 'string'
        ? { issuer: identity['issuer'], subject: identity['subject'], name: identity['name'] }
        : { issuer: identity['issuer'], subject: identity['subject'] },
  }
  if (typeof data['refresh_token'] === 'string') record.refresh_token = data['refresh_token']
  if (typeof data['expires_at'] === 'number') record.expires_at = data['expires_at']
  if (typeof data['scope'] === 'string') record.scope = data['scope']
  return record
}

/** Options of {@link createUpstreamTokenVault}. */
export interface UpstreamTokenVaultOptions {
  upstream: ResolvedUpstream
  metadata: () => Promise<AuthorizationServerMetadata>
  store: Store
  now: () => number
  /** Refresh this long before the upstream access token expires. Default 60 000 ms. */
  refreshSkewMs?: number
}

/** Upstream tokens per grant. */
export interface UpstreamTokenVault {
  /** Stores the tokens of a grant until `expiresAt`. */
  put(grantId: string, record: UpstreamTokenRecord, expiresAt: number): Promise<void>
  /** The stored record, or `undefined`. */
  get(grantId: string): Promise<UpstreamTokenRecord | undefined>
  /**
   * A usable upstream access token for the grant, refreshed first when it expires within the
   * skew (and a refresh token exists). Concurrent calls for one grant share one refresh.
   *
   * @throws {ProxyError} `ERR_NO_UPSTREAM_TOKEN` when nothing is kept, `ERR_UPSTREAM_TOKEN` when the refresh fails
   */
  accessToken(grantId: string, expiresAt: number): Promise<UpstreamAccessToken>
  /** Deletes the tokens of a grant and revokes them at the provider when it can. Never throws. */
  revoke(grantId: string): Promise<{ deleted: boolean; revokedUpstream: boolean }>
}

/**
 * Creates the vault.
 *
 * @see [RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6) refreshing an access token
 * @see [RFC 7009 §2](https://www.rfc-editor.org/rfc/rfc7009#section-2) token revocation
 */
export function createUpstreamTokenVault(options: UpstreamTokenVaultOptions): UpstreamTokenVault {
  const { upstream, store, now } = options
  const skew = options.refreshSkewMs ?? 60_000
  const inFlight = new Map<string, Promise<UpstreamTokenRecord>>()

  async function refresh(
    grantId: string,
    record: UpstreamTokenRecord,
    expiresAt: number,
  ): Promise<UpstreamTokenRecord> {
    const refreshToken = record.refresh_token
    if (refreshToken === undefined)
      throw new ProxyError(
        'ERR_NO_UPSTREAM_TOKEN',
        'the upstream access token expired and cannot be refreshed',
      )
    const metadata = await options.metadata()
    let response: oauth.TokenEndpointResponse
    try {
      const as = asServer(metadata)
      const client = asClient(upstream)
      response = await oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(
          as,
          client,
          upstreamClientAuth(upstream),
          refreshToken,
          upstreamRequestOptions(upstream),
        ),
      )
    } catch (error) {
      throw upstreamTokenError(error, 'the upstream refresh')
    }
    const tokens: UpstreamTokenResponse = {
      access_token: response.access_token,
      token_type: response.token_type,
    }
    if (typeof response.refresh_token === 'string') tokens.refresh_token = response.refresh_token
    if (typeof response.expires_in === 'number') tokens.expires_in = response.expires_in
    if (typeof response.scope === 'string') tokens.scope = response.scope
    const next = upstreamTokenRecord(tokens, record.identity, now(), record)
    await store.upstreamTokens.put(grantId, toJson(next), expiresAt)
    return next
  }

  return {
    async put(grantId, record, expiresAt) {
      await store.upstreamTokens.put(grantId, toJson(record), expiresAt)
    },
    async get(grantId) {
      return fromJson(await store.upstreamTokens.get(grantId, now()))
    },
    async accessToken(grantId, expiresAt) {
      let record = fromJson(await store.upstreamTokens.get(grantId, now()))
      if (record === undefined)
        throw new ProxyError('ERR_NO_UPSTREAM_TOKEN', 'no upstream token is kept for this grant')
      if (record.expires_at !== undefined && now() >= record.expires_at - skew) {
        // Single flight per process: a rotating upstream refresh token is spent once.
        let pending = inFlight.get(grantId)
        if (pending === undefined) {
          pending = refresh(grantId, record, expiresAt).finally(() => inFlight.delete(grantId))
          inFlight.set(grantId, pending)
        }
        record = await pending
      }
      return handedOut(record)
    },
    async revoke(grantId) {
      const record = fromJson(await store.upstreamTokens.get(grantId, now()))
      const deleted = await store.upstreamTokens.delete(grantId)
      if (record === undefined) return { deleted, revokedUpstream: false }
      let revokedUpstream = false
      try {
        const metadata = await options.metadata()
        const ctx = upstreamTokenContext(upstream, metadata, now)
        // RFC 7009 §2.1: revoking the refresh token revokes the grant at the provider; the access token too.
        if (record.refresh_token !== undefined)
          revokedUpstream = await revokeToken(ctx, record.refresh_token, 'refresh_token')
        revokedUpstream = (await revokeToken(ctx, record.access_token, 'access_token')) || revokedUpstream
      } catch {
        // Best effort: the local copy is gone whatever the provider answers.
      }
      return { deleted, revokedUpstream }
    },
  }
}
