/**
 * Hono middleware for a {@link ProtectedResource}. Hono is web-standard, so this runs wherever
 * Hono does (Node, Deno, Bun, Workers).
 *
 * @module
 */

import type { Context, MiddlewareHandler } from 'hono'
import type { AuthInfo } from './auth-info.js'
import type { RequestHead } from './bearer-token.js'
import type { ProtectedResource } from './protected-resource.js'

/** The context variables {@link honoAuth} sets. */
export interface HonoAuthVariables {
  /** The verified token of the request. */
  auth: AuthInfo
}

/**
 * Serves the Protected Resource Metadata (and its CORS preflight) for requests to its
 * well-known paths; passes every other request on. Mount it at the app's root.
 *
 * @example
 * ```ts
 * app.use(honoMetadata(rs))
 * app.post('/mcp', honoAuth(rs), (c) => handler.fetch(c.req.raw, { authInfo: toSdkAuthInfo(c.get('auth')) }))
 * ```
 * @see [RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)
 */
export function honoMetadata(rs: ProtectedResource): MiddlewareHandler {
  return async (c, next) => {
    const response = await rs.metadata(c.req.raw)
    if (response !== undefined) return response
    await next()
    return undefined
  }
}

/** Options of {@link honoAuth}. */
export interface HonoAuthOptions {
  /**
   * Where the `Authorization` and `Content-Type` values come from when the runtime has them at
   * hand (`honoNodeHead` from `portcullis/node` on `@hono/node-server`); `undefined` from it, or
   * no `head`, reads them from `c.req.raw.headers`.
   */
  head?: (c: Context) => RequestHead | undefined
}

/**
 * Authenticates the request with `rs.authenticate`: on success sets `c.get('auth')` and calls
 * the next handler; otherwise answers with the challenge response.
 *
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 */
export function honoAuth(
  rs: ProtectedResource,
  options: HonoAuthOptions = {},
): MiddlewareHandler<{ Variables: HonoAuthVariables }> {
  const head = options.head
  return async (c, next) => {
    const result = await rs.authenticate(c.req.raw, head?.(c))
    if (result instanceof Response) return result
    c.set('auth', result)
    await next()
    return undefined
  }
}
