/**
 * The proxy's own authorization code flow towards the upstream provider, independent of the MCP
 * client's: its own PKCE `S256` verifier, its own `state` (and OIDC `nonce`), the one exact
 * callback URI, `iss` checked when the provider supports RFC 9207.
 *
 * The upstream transaction is created only after the user approved our consent page (MCP
 * Security Best Practices, "Ordering"), kept server-side under the hash of `state`, single use,
 * and expires after 10 minutes.
 *
 * @see [RFC 7636 §4](https://www.rfc-editor.org/rfc/rfc7636#section-4) PKCE
 * @see [RFC 9207 §2.4](https://www.rfc-editor.org/rfc/rfc9207#section-2.4) `iss` check
 * @see [MCP Security Best Practices: Confused Deputy](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem) OAuth `state`, ordering
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import { computeCodeChallenge, generateCodeVerifier } from '../protocol/pkce.js'
import { randomToken, sha256 } from '../protocol/random.js'
import { serializeScope } from '../protocol/scope.js'
import type { JsonObject, Store } from '../storage/types.js'
import { ProxyError } from './errors.js'
import { asClient, asServer, upstreamClientAuth, upstreamRequestOptions } from './upstream-client.js'
import type { ResolvedUpstream } from './upstream-options.js'

/** How long an upstream transaction (and its binding cookie) lives: 10 minutes. */
export const UPSTREAM_TRANSACTION_SECONDS = 600

const PREFIX = 'upstream:'

/** What is kept between the redirect to the provider and its callback. */
export interface UpstreamTransaction {
  /** The authorization server's transaction this upstream login completes. */
  transaction_id: string
  code_verifier: string
  /** Sent when the scopes include `openid`. */
  nonce?: string
  /** SHA-256 of the binding cookie's nonce. */
  binding: string
  created_at: number
}

/** The store id of an upstream transaction, from the hash of its `state`. */
export function upstreamTransactionId(key: string): string {
  return `${PREFIX}${key}`
}

function toJson(tx: UpstreamTransaction): JsonObject {
  return JSON.parse(JSON.stringify(tx)) as JsonObject
}

/** Reads a stored upstream transaction back; `undefined` for anything this proxy did not write. */
export function upstreamTransactionFromJson(data: JsonObject | undefined): UpstreamTransaction | undefined {
  if (data === undefined) return undefined
  const { transaction_id, code_verifier, nonce, binding, created_at } = data
  if (typeof transaction_id !== 'string' || typeof code_verifier !== 'string' || typeof binding !== 'string')
    return undefined
  if (typeof created_at !== 'number') return undefined
  const tx: UpstreamTransaction = { transaction_id, code_verifier, binding, created_at }
  if (typeof nonce === 'string') tx.nonce = nonce
  return tx
}

/**
 * Builds the upstream authorization URL and stores the upstream transaction. `bind` makes the
 * binding cookie for the transaction key and returns its digest. Call only after consent.
 *
 * @see [RFC 6749 §4.1.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.1)
 * @see [OpenID Connect Core 1.0 §3.1.2.1](https://openid.net/specs/openid-connect-core-1_0.html#AuthRequest) `nonce`
 */
export async function beginUpstreamAuthorization(
  deps: {
    upstream: ResolvedUpstream
    metadata: AuthorizationServerMetadata
    store: Store
    now: number
    redirectUri: string
  },
  input: { transactionId: string; bind: (key: string) => Promise<{ setCookie: string; digest: string }> },
): Promise<{ url: string; setCookie: string }> {
  const { upstream, metadata } = deps
  const endpoint = metadata.authorization_endpoint
  if (endpoint === undefined)
    throw new ProxyError('ERR_UPSTREAM_DISCOVERY', 'the identity provider has no authorization endpoint')
  // S5: state, verifier and nonce are drawn independently.
  const state = randomToken(32)
  const codeVerifier = generateCodeVerifier()
  const nonce = upstream.scopes.includes('openid') ? randomToken(32) : undefined
  const key = await sha256(state)
  const binding = await input.bind(key)
  const tx: UpstreamTransaction = {
    transaction_id: input.transactionId,
    code_verifier: codeVerifier,
    binding: binding.digest,
    created_at: deps.now,
  }
  if (nonce !== undefined) tx.nonce = nonce
  await deps.store.transactions.create(
    upstreamTransactionId(key),
    toJson(tx),
    deps.now + UPSTREAM_TRANSACTION_SECONDS * 1000,
  )

  const url = new URL(endpoint)
  const params = url.searchParams
  for (const [name, value] of Object.entries(upstream.authorizationParams)) params.set(name, value)
  params.set('response_type', 'code')
  params.set('client_id', upstream.clientId)
  params.set('redirect_uri', deps.redirectUri)
  if (upstream.scopes.length > 0) params.set('scope', serializeScope(upstream.scopes))
  params.set('state', state)
  params.set('code_challenge', await computeCodeChallenge(codeVerifier))
  params.set('code_challenge_method', 'S256')
  if (nonce !== undefined) params.set('nonce', nonce)
  return { url: url.href, setCookie: binding.setCookie }
}

/** The upstream transaction a callback names, found by its `state` (not yet consumed). */
export async function findUpstreamTransaction(
  store: Store,
  params: URLSearchParams,
  now: number,
): Promise<{ key: string; tx: UpstreamTransaction } | undefined> {
  const states = params.getAll('state')
  const state = states[0]
  if (states.length !== 1 || state === undefined || state === '' || state.length > 256) return undefined
  const key = await sha256(state)
  const tx = upstreamTransactionFromJson(await store.transactions.get(upstreamTransactionId(key), now))
  return tx === undefined ? undefined : { key, tx }
}

/** What the provider's token endpoint gave for the code. */
export interface UpstreamTokenResponse {
  access_token: string
  token_type: string
  refresh_token?: string
  /** Seconds. */
  expires_in?: number
  scope?: string
  id_token?: string
}

function fromTokenEndpoint(response: oauth.TokenEndpointResponse): UpstreamTokenResponse {
  const out: UpstreamTokenResponse = { access_token: response.access_token, token_type: response.token_type }
  if (typeof response.refresh_token === 'string') out.refresh_token = response.refresh_token
  if (typeof response.expires_in === 'number') out.expires_in = response.expires_in
  if (typeof response.scope === 'string') out.scope = response.scope
  if (typeof response.id_token === 'string') out.id_token = response.id_token
  return out
}

/** Maps any upstream failure to a `ProxyError` without copying its text (it may quote inputs). */
export function upstreamTokenError(error: unknown, what: string): ProxyError {
  if (error instanceof ProxyError) return error
  if (error instanceof oauth.ResponseBodyError) {
    return new ProxyError('ERR_UPSTREAM_TOKEN', `${what} was refused`, {
      detail: `${error.status} ${error.error}`,
      cause: error,
    })
  }
  return new ProxyError('ERR_UPSTREAM_TOKEN', `${what} failed`, {
    // oauth4webapi's messages name the check that failed, never a token.
    ...(error instanceof Error ? { detail: `${error.name}: ${error.message}`.slice(0, 200) } : {}),
    cause: error,
  })
}

/**
 * Checks the callback (`state` and RFC 9207 `iss` through oauth4webapi; an `error` answer is
 * returned as its code), then redeems the code with the stored verifier at the provider's token
 * endpoint, authenticated with the static client's secret. The ID Token's claims, when there is
 * one, are checked by oauth4webapi (`iss`, `aud`, `exp`, `nonce`); its signature by the caller.
 *
 * @throws {ProxyError} `ERR_UPSTREAM_CALLBACK` (bad `state` or `iss`), `ERR_UPSTREAM_TOKEN`
 * @see [RFC 6749 §4.1.3](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.3)
 * @see [RFC 9207 §2.4](https://www.rfc-editor.org/rfc/rfc9207#section-2.4)
 */
export async function redeemUpstreamCode(
  deps: { upstream: ResolvedUpstream; metadata: AuthorizationServerMetadata; redirectUri: string },
  tx: UpstreamTransaction,
  params: URLSearchParams,
): Promise<{ error: string } | { tokens: UpstreamTokenResponse }> {
  const as = asServer(deps.metadata)
  const client = asClient(deps.upstream)
  const state = params.get('state') ?? ''
  let validated: URLSearchParams
  try {
    validated = oauth.validateAuthResponse(as, client, params, state)
  } catch (error) {
    if (error instanceof oauth.AuthorizationResponseError) {
      const code = error.error
      return { error: /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(code) ? code : 'server_error' }
    }
    throw new ProxyError('ERR_UPSTREAM_CALLBACK', 'the identity provider callback is not valid', {
      ...(error instanceof Error ? { detail: error.message } : {}),
      cause: error,
    })
  }
  try {
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      upstreamClientAuth(deps.upstream),
      validated,
      deps.redirectUri,
      tx.code_verifier,
      upstreamRequestOptions(deps.upstream),
    )
    const result = await oauth.processAuthorizationCodeResponse(as, client, response, {
      expectedNonce: tx.nonce ?? oauth.expectNoNonce,
      requireIdToken: deps.upstream.identity.from === 'id_token',
    })
    return { tokens: fromTokenEndpoint(result) }
  } catch (error) {
    throw upstreamTokenError(error, 'the upstream code exchange')
  }
}
