/**
 * The proxy's side of the authorization server's upstream login hook: what happens after the user
 * approved our consent page (the browser goes to the provider, bound to this browser by a cookie)
 * and when the provider sends the browser back (binding cookie, `state`, `iss`, code exchange,
 * verified identity, upstream tokens stored encrypted under a fresh grant id).
 *
 * @see [MCP Security Best Practices: Confused Deputy](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem)
 * @module
 */
import type { UpstreamCompletion, UpstreamLogin } from '../authorization-server/options.js'
import { errorPage } from '../authorization-server/pages/index.js'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import { randomToken } from '../protocol/random.js'
import type { Store } from '../storage/types.js'
import type { BindingCookie } from './binding-cookie.js'
import { ProxyError } from './errors.js'
import {
  createIdTokenVerifier,
  type IdTokenVerifier,
  processUserInfoResponse,
  type UpstreamIdentity,
  userInfoRequest,
} from './identity.js'
import {
  beginUpstreamAuthorization,
  findUpstreamTransaction,
  redeemUpstreamCode,
  UPSTREAM_TRANSACTION_SECONDS,
  upstreamTransactionFromJson,
  upstreamTransactionId,
} from './upstream-authorization.js'
import type { ResolvedUpstream } from './upstream-options.js'
import { type UpstreamTokenVault, upstreamTokenRecord } from './upstream-tokens.js'

/** Dependencies of {@link createUpstreamLogin}. */
export interface UpstreamLoginDeps {
  upstream: ResolvedUpstream
  metadata: () => Promise<AuthorizationServerMetadata>
  store: Store
  vault: UpstreamTokenVault
  binding: BindingCookie
  now: () => number
  /** How long a grant can live (milliseconds): the upstream tokens are kept as long. */
  grantLifetimeMs: number
  /** The exact callback URI registered at the provider. */
  redirectUri: string
  /** Our token's `sub` for an upstream identity. */
  subject: (identity: UpstreamIdentity) => string
  /** Reports a failure of the upstream leg to the operator (never with a token or a secret). */
  onError: (error: unknown) => void
}

function expired(): Response {
  return errorPage({
    status: 400,
    title: 'Request expired',
    message: 'This sign-in request has expired or was already used. Start again from the application.',
  })
}

function unbound(): Response {
  return errorPage({
    status: 403,
    title: 'Request refused',
    message: 'This sign-in was not approved in this browser. Start again from the application.',
  })
}

/** The error code the client is told when the upstream leg fails. */
function clientErrorFor(upstreamError: string): 'access_denied' | 'temporarily_unavailable' | 'server_error' {
  if (upstreamError === 'access_denied' || upstreamError === 'temporarily_unavailable') return upstreamError
  return 'server_error'
}

/** Creates the hook the authorization server calls in upstream login mode. */
export function createUpstreamLogin(deps: UpstreamLoginDeps): UpstreamLogin {
  const { upstream, store, vault, binding, now } = deps
  let verifier: { metadata: AuthorizationServerMetadata; verifier: IdTokenVerifier } | undefined

  function idTokenVerifier(metadata: AuthorizationServerMetadata): IdTokenVerifier {
    if (verifier === undefined || verifier.metadata !== metadata) {
      verifier = { metadata, verifier: createIdTokenVerifier(upstream, metadata, now) }
    }
    return verifier.verifier
  }

  async function identityOf(
    metadata: AuthorizationServerMetadata,
    tokens: { access_token: string; id_token?: string },
    nonce: string | undefined,
  ): Promise<UpstreamIdentity> {
    if (upstream.identity.from === 'id_token') {
      if (tokens.id_token === undefined)
        throw new ProxyError('ERR_UPSTREAM_IDENTITY', 'the identity provider sent no ID Token')
      return idTokenVerifier(metadata).verify(tokens.id_token, { nonce })
    }
    const endpoint = metadata.userinfo_endpoint
    if (endpoint === undefined)
      throw new ProxyError('ERR_UPSTREAM_IDENTITY', 'the identity provider has no userinfo endpoint')
    return processUserInfoResponse(
      upstream,
      metadata.issuer,
      await userInfoRequest(upstream, endpoint, tokens.access_token),
    )
  }

  return {
    name: upstream.name,
    callbackPath: upstream.callbackPath,

    async formActionSources() {
      const metadata = await deps.metadata()
      return metadata.authorization_endpoint === undefined
        ? []
        : [new URL(metadata.authorization_endpoint).origin]
    },

    async begin({ transactionId }) {
      const metadata = await deps.metadata()
      const { url, setCookie } = await beginUpstreamAuthorization(
        { upstream, metadata, store, now: now(), redirectUri: deps.redirectUri },
        { transactionId, bind: (key) => binding.bind(key, UPSTREAM_TRANSACTION_SECONDS) },
      )
      const headers = new Headers({
        location: url,
        'cache-control': 'no-store',
        'referrer-policy': 'no-referrer',
      })
      headers.append('set-cookie', setCookie)
      return new Response(null, { status: 303, headers })
    },

    async complete(request): Promise<Response | UpstreamCompletion> {
      const params = new URL(request.url).searchParams
      const found = await findUpstreamTransaction(store, params, now())
      if (found === undefined) return expired()
      // S14: only the browser that approved may complete (checked before anything is consumed,
      // so a forged callback cannot burn the legitimate one).
      if (!(await binding.verify(request, found.key, found.tx.binding))) return unbound()
      const tx = upstreamTransactionFromJson(
        await store.transactions.consume(upstreamTransactionId(found.key), now()),
      )
      if (tx === undefined) return expired()
      const setCookies = [binding.clear(found.key)]
      const transactionId = tx.transaction_id
      // The authorization it completes must still be pending; otherwise the code is not redeemed.
      if ((await store.transactions.get(transactionId, now())) === undefined) return expired()
      try {
        const metadata = await deps.metadata()
        const result = await redeemUpstreamCode(
          { upstream, metadata, redirectUri: deps.redirectUri },
          tx,
          params,
        )
        if ('error' in result) return { transactionId, error: clientErrorFor(result.error), setCookies }
        const identity = await identityOf(metadata, result.tokens, tx.nonce)
        const at = now()
        const grantId = randomToken(16)
        await vault.put(grantId, upstreamTokenRecord(result.tokens, identity, at), at + deps.grantLifetimeMs)
        const user =
          identity.name === undefined
            ? { subject: deps.subject(identity) }
            : { subject: deps.subject(identity), name: identity.name }
        return { transactionId, user, grantId, setCookies }
      } catch (error) {
        deps.onError(error)
        return { transactionId, error: 'server_error', setCookies }
      }
    },

    async discard(grantId) {
      await vault.revoke(grantId)
    },

    async accessTokenClaims(grantId) {
      const record = await vault.get(grantId)
      if (record === undefined) return undefined
      return { upstream_iss: record.identity.issuer, upstream_sub: record.identity.subject }
    },
  }
}
