/**
 * Dynamic Client Registration: open or behind an initial access token, rate-limited per source
 * address in the store (so the limit holds across replicas), with idle expiry. The answer holds the
 * new client's own credentials and nothing else (anchors S18).
 *
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591#section-3)
 * @see [MCP Authorization: Dynamic Client Registration](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#dynamic-client-registration)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { timingSafeEqual } from '../../protocol/random.js'
import { createClientRegistration } from '../clients/dcr.js'
import type { ServerContext } from '../context.js'
import { hasMediaType, jsonResponse, NO_STORE, oauthErrorResponse, readBodyText } from '../http.js'

const MAX_BODY_BYTES = 16 * 1024

/** Whether the request carries one of the initial access tokens; compares all, in constant time. */
async function hasInitialAccessToken(request: Request, tokens: readonly string[]): Promise<boolean> {
  const authorization = request.headers.get('authorization')
  const match = authorization === null ? null : /^Bearer ([\x21-\x7e]{1,512})$/i.exec(authorization)
  if (match === null) return false
  const results = await Promise.all(tokens.map((t) => timingSafeEqual(match[1]!, t)))
  return results.includes(true)
}

/** Handles `POST /register`. */
export async function handleRegister(ctx: ServerContext, request: Request): Promise<Response> {
  const address = ctx.clientAddress(request)
  const now = ctx.now()
  const reject = (reason: string): void =>
    ctx.audit({ type: 'client.rejected', at: now, endpoint: 'register', reason, address })
  try {
    const limit = ctx.registration.rateLimit
    if (limit !== undefined && limit !== false) {
      const hit = await ctx.store.rateLimits.hit(`register:${address}`, limit.windowMs, now)
      if (hit.count > limit.max) {
        reject('rate limited')
        const response = oauthErrorResponse(
          new OAuthError('temporarily_unavailable', 'too many registrations; try again later', {
            status: 429,
          }),
          ctx.issuer,
        )
        response.headers.set('retry-after', String(Math.max(1, Math.ceil((hit.resetAt - now) / 1000))))
        return response
      }
    }
    if (ctx.registration.mode === 'initial-access-token') {
      if (!(await hasInitialAccessToken(request, ctx.registration.initialAccessTokens ?? []))) {
        reject('initial access token')
        const response = oauthErrorResponse(
          new OAuthError('invalid_token', 'a valid initial access token is required', { status: 401 }),
          ctx.issuer,
        )
        response.headers.set('www-authenticate', 'Bearer error="invalid_token"')
        return response
      }
    }
    if (request.method !== 'POST' || !hasMediaType(request, 'application/json')) {
      throw new OAuthError('invalid_request', 'registration is a POST of application/json')
    }
    let json: unknown
    try {
      json = JSON.parse(await readBodyText(request, MAX_BODY_BYTES))
    } catch (error) {
      if (error instanceof OAuthError) throw error
      throw new OAuthError('invalid_client_metadata', 'the body is not valid JSON')
    }
    let created: Awaited<ReturnType<typeof createClientRegistration>>
    try {
      created = await createClientRegistration(json, {
        kind: 'dynamic',
        now,
        idleMs: ctx.lifetimes.registrationIdle,
        allowJwksUri: ctx.fetch !== undefined,
        hash: ctx.sha256,
      })
    } catch (error) {
      if (error instanceof OAuthError) reject(error.code)
      throw error
    }
    await ctx.store.clients.put(created.record)
    ctx.audit({
      type: 'client.registered',
      at: now,
      client_id: created.record.client_id,
      kind: 'dynamic',
      address,
    })
    return jsonResponse(created.response, 201, NO_STORE)
  } catch (error) {
    if (error instanceof OAuthError) return oauthErrorResponse(error, ctx.issuer)
    throw error
  }
}
