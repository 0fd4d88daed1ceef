/**
 * The JWK Set of the token-signing keys: the active key, a pending one before it signs, and retired
 * ones until their tokens have expired.
 *
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414#section-2) `jwks_uri`
 * @see [RFC 7517 §5](https://www.rfc-editor.org/rfc/rfc7517#section-5)
 * @module
 */
import type { ServerContext } from '../context.js'
import { jsonResponse } from '../http.js'

/** Handles `GET /jwks`. */
export async function handleJwks(ctx: ServerContext): Promise<Response> {
  const jwks = await ctx.keys.publicJwks(ctx.now())
  // Short public caching: resource servers refetch on an unknown kid anyway.
  return jsonResponse(jwks, 200, { 'cache-control': 'public, max-age=300' })
}
