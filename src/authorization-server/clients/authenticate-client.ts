/**
 * Client authentication at the token, revocation and introspection endpoints: `none`,
 * `client_secret_basic`, `client_secret_post` and `private_key_jwt`, each client only by the method
 * it registered. Secrets are compared as hashes in constant time.
 *
 * @see [RFC 6749 §2.3](https://www.rfc-editor.org/rfc/rfc6749#section-2.3) client authentication
 * @see [RFC 7523 §2.2, §3](https://www.rfc-editor.org/rfc/rfc7523#section-3) JWT client assertions
 * @see [OAuth 2.1 §2.4](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-2.4)
 * @module
 */
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose'
import type { TokenEndpointAuthMethod } from '../../protocol/client-metadata.js'
import { OAuthError } from '../../protocol/errors.js'
import { ASYMMETRIC_JWS_ALGORITHMS } from '../../protocol/jws-algorithms.js'
import type { Client, ServerContext } from '../context.js'
import { constantTimeEqual } from '../digest.js'

/** RFC 7523 §2.2 client assertion type. */
export const JWT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'

/** Algorithms accepted for client assertions: the asymmetric ones, never `none`, never HMAC. */
export const ASSERTION_ALGORITHMS: readonly string[] = ASYMMETRIC_JWS_ALGORITHMS

// A client assertion is short-lived; its jti must be remembered until it expires.
const MAX_ASSERTION_LIFETIME_S = 3600

/** Which endpoint asks, for audit and audience checks. */
export type AuthenticatingEndpoint = 'token' | 'revoke' | 'introspect'

interface Presented {
  method: TokenEndpointAuthMethod
  clientId: string | undefined
  secret?: string
  assertion?: string
}

function unauthorized(description: string): OAuthError {
  // RFC 6749 §5.2 and MCP: 401 invalid_client tells a client its registration is not usable.
  return new OAuthError('invalid_client', description, { status: 401 })
}

function decodeFormComponent(value: string): string {
  return decodeURIComponent(value.replace(/\+/g, ' '))
}

/** Reads the credentials a request presents; more than one method is an error (RFC 6749 §2.3). */
function presentedCredentials(request: Request, params: Map<string, string>): Presented {
  const found: Presented[] = []
  const authorization = request.headers.get('authorization')
  if (authorization !== null && /^basic /i.test(authorization)) {
    let decoded: string
    try {
      decoded = atob(authorization.slice(6).trim())
    } catch {
      throw unauthorized('malformed Basic credentials')
    }
    const colon = decoded.indexOf(':')
    if (colon < 0) throw unauthorized('malformed Basic credentials')
    try {
      // RFC 6749 §2.3.1: id and secret are form-urlencoded before Basic encoding.
      found.push({
        method: 'client_secret_basic',
        clientId: decodeFormComponent(decoded.slice(0, colon)),
        secret: decodeFormComponent(decoded.slice(colon + 1)),
      })
    } catch {
      throw unauthorized('malformed Basic credentials')
    }
  }
  const bodySecret = params.get('client_secret')
  if (bodySecret !== undefined) {
    found.push({ method: 'client_secret_post', clientId: params.get('client_id'), secret: bodySecret })
  }
  const assertionType = params.get('client_assertion_type')
  const assertion = params.get('client_assertion')
  if (assertionType !== undefined || assertion !== undefined) {
    if (assertionType !== JWT_ASSERTION_TYPE || assertion === undefined) {
      throw unauthorized('unsupported client assertion')
    }
    let sub: unknown
    try {
      sub = decodeJwt(assertion).sub
    } catch {
      throw unauthorized('malformed client assertion')
    }
    if (typeof sub !== 'string') throw unauthorized('client assertion has no subject')
    const bodyId = params.get('client_id')
    if (bodyId !== undefined && bodyId !== sub)
      throw unauthorized('client assertion subject does not match client_id')
    found.push({ method: 'private_key_jwt', clientId: sub, assertion })
  }
  if (found.length > 1) {
    throw new OAuthError('invalid_request', 'the client used more than one authentication method')
  }
  if (found.length === 1) {
    const only = found[0]!
    const bodyId = params.get('client_id')
    if (only.method === 'client_secret_basic' && bodyId !== undefined && bodyId !== only.clientId) {
      throw unauthorized('client_id does not match the Basic credentials')
    }
    return only
  }
  return { method: 'none', clientId: params.get('client_id') }
}

/** Creates the authenticator; keeps one remote JWKS cache per `jwks_uri`. */
export function createClientAuthenticator(
  ctx: ServerContext,
): (request: Request, params: Map<string, string>, endpoint: AuthenticatingEndpoint) => Promise<Client> {
  const remoteSets = new Map<string, JWTVerifyGetKey>()

  function keySetFor(client: Client): JWTVerifyGetKey | undefined {
    const { jwks, jwks_uri } = client.metadata
    if (jwks !== undefined) return createLocalJWKSet(jwks as JSONWebKeySet)
    if (jwks_uri === undefined || ctx.fetch === undefined) return undefined
    let set = remoteSets.get(jwks_uri)
    if (set === undefined) {
      const fetchImpl = ctx.fetch
      set = createRemoteJWKSet(new URL(jwks_uri), {
        [customFetch]: (url: string, init: RequestInit) => fetchImpl(url, { ...init, redirect: 'manual' }),
        timeoutDuration: 5000,
      })
      remoteSets.set(jwks_uri, set)
    }
    return set
  }

  async function verifyAssertion(
    client: Client,
    assertion: string,
    endpoint: AuthenticatingEndpoint,
  ): Promise<void> {
    const keys = keySetFor(client)
    if (keys === undefined) throw unauthorized('the client has no usable keys')
    const now = ctx.now()
    let exp: number
    let jti: string
    try {
      const audiences = [ctx.issuer, ctx.endpoints.token]
      if (endpoint === 'revoke') audiences.push(ctx.endpoints.revocation)
      if (endpoint === 'introspect') audiences.push(ctx.endpoints.introspection)
      const { payload } = await jwtVerify(assertion, keys, {
        algorithms: [...ASSERTION_ALGORITHMS],
        // RFC 7523 §3: iss and sub are the client_id; aud identifies this server.
        issuer: client.client_id,
        subject: client.client_id,
        audience: audiences,
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(now),
        clockTolerance: 30,
      })
      exp = payload.exp!
      jti = payload.jti!
    } catch {
      throw unauthorized('client assertion is invalid')
    }
    if (exp * 1000 > now + MAX_ASSERTION_LIFETIME_S * 1000)
      throw unauthorized('client assertion lives too long')
    // RFC 7523 §3 item 7: a jti is single-use until the assertion expires.
    if (!(await ctx.store.jtis.markUsed(client.client_id, jti, exp * 1000, now))) {
      throw unauthorized('client assertion was already used')
    }
  }

  return async (request, params, endpoint) => {
    const presented = presentedCredentials(request, params)
    const reject = (reason: string, clientId?: string): OAuthError => {
      ctx.audit({
        type: 'client.rejected',
        at: ctx.now(),
        endpoint,
        reason,
        ...(clientId === undefined ? {} : { client_id: clientId }),
      })
      return unauthorized(reason === 'unknown client' ? 'unknown client' : 'client authentication failed')
    }
    if (presented.clientId === undefined || presented.clientId === '')
      throw reject('no client identification')
    let client: Client | undefined
    try {
      client = await ctx.findClient(presented.clientId)
    } catch (error) {
      if (error instanceof OAuthError) throw reject('unknown client', presented.clientId)
      throw error
    }
    if (client === undefined) throw reject('unknown client', presented.clientId)
    if (presented.method !== client.authMethod) throw reject('wrong authentication method', client.client_id)
    switch (presented.method) {
      case 'none':
        break
      case 'client_secret_basic':
      case 'client_secret_post': {
        const ok =
          client.secretHash !== undefined &&
          constantTimeEqual(await ctx.sha256(presented.secret ?? ''), client.secretHash)
        if (!ok) throw reject('wrong client secret', client.client_id)
        break
      }
      case 'private_key_jwt':
        try {
          await verifyAssertion(client, presented.assertion!, endpoint)
        } catch (error) {
          if (error instanceof OAuthError)
            throw reject(error.description ?? 'invalid assertion', client.client_id)
          throw error
        }
        break
    }
    return client
  }
}
