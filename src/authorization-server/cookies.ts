/**
 * Cookies of the authorization server's pages: one strict reader and one serializer.
 *
 * Callers name cookies by a base name and let the helpers add the `__Host-` prefix: serialize with
 * `serializeCookie(base, …)` and read with `readCookie(request, cookieName(base, secure))`.
 *
 * @module
 */
import { parse, serialize } from 'hono/utils/cookie'

/** Attributes of a cookie written by {@link serializeCookie}. */
export interface SerializeCookieOptions {
  /** Adds `Secure` and, when `path` is `/`, the `__Host-` name prefix. `true` behind HTTPS. */
  secure: boolean
  /** Default `true`: page cookies are never for scripts. */
  httpOnly?: boolean
  /** Default `Lax`: the cookie rides top-level navigations but not cross-site POSTs. */
  sameSite?: 'Lax' | 'Strict'
  /** Seconds; omitted for a session cookie, `0` to delete. */
  maxAge?: number
  /** Default `/`. */
  path?: string
}

/**
 * The name a cookie is written and read under: `__Host-<base>` when `secure` and the path is `/`,
 * `base` otherwise. The prefix makes the browser refuse the cookie unless it is `Secure`, host-only
 * and `Path=/`, so a sibling subdomain cannot plant or shadow it.
 *
 * @see [RFC 6265bis §4.1.3.2](https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.3.2) the `__Host-` prefix
 */
export function cookieName(base: string, secure: boolean, path = '/'): string {
  return secure && path === '/' ? `__Host-${base}` : base
}

/**
 * A `Set-Cookie` header value. `name` is the base name; the `__Host-` prefix is added as
 * {@link cookieName} describes. The value is percent-encoded. Throws `Error` on a name that is
 * not an RFC 6265 token or on an attribute that would break the header.
 *
 * @see [RFC 6265 §4.1](https://www.rfc-editor.org/rfc/rfc6265#section-4.1) Set-Cookie syntax
 * @see [RFC 6265bis §4.1.2.7](https://datatracker.ietf.org/doc/html/draft-ietf-httpbis-rfc6265bis#section-4.1.2.7) SameSite
 */
export function serializeCookie(name: string, value: string, options: SerializeCookieOptions): string {
  const path = options.path ?? '/'
  return serialize(cookieName(name, options.secure, path), value, {
    path,
    secure: options.secure,
    httpOnly: options.httpOnly ?? true,
    sameSite: options.sameSite ?? 'Lax',
    ...(options.maxAge === undefined ? {} : { maxAge: options.maxAge }),
  })
}

/**
 * The value of the first cookie called `name` in the request's `Cookie` header, percent-decoded,
 * or `undefined`. Pairs without `=`, with a malformed name or with characters outside
 * cookie-octets are skipped; garbage never throws.
 *
 * @see [RFC 6265 §5.4](https://www.rfc-editor.org/rfc/rfc6265#section-5.4) the Cookie header
 */
export function readCookie(request: Request, name: string): string | undefined {
  const header = request.headers.get('cookie')
  if (header === null || header === '') return undefined
  try {
    return parse(header, name)[name]
  } catch {
    return undefined
  }
}
