/**
 * The login session of the built-in login form: a signed, `HttpOnly`, `SameSite=Lax` cookie naming
 * the user, so a second authorization in the same browser does not ask for the password again.
 * Only used with the `authenticate` login hook; a `currentUser` host keeps its own session.
 *
 * @module
 */
import { base64url, base64urlDecode, timingSafeEqual, utf8 } from '../protocol/random.js'
import { cookieName, readCookie, serializeCookie } from './cookies.js'
import type { LoginUser } from './options.js'

const COOKIE = 'portcullis_session'

/** Issues and reads the login session cookie. */
export interface SessionCookies {
  /** A `Set-Cookie` value naming `user` until `now + lifetimeMs`. */
  issue(user: LoginUser, now: number): Promise<string>
  /** The user of a valid, unexpired session cookie. */
  read(request: Request, now: number): Promise<LoginUser | undefined>
}

/** Creates the session cookie helper; `secret` is the server's cookie secret. */
export function createSessionCookies(options: {
  secret: string
  secure: boolean
  lifetimeMs: number
}): SessionCookies {
  const name = cookieName(COOKIE, options.secure)
  const key = crypto.subtle.importKey(
    'raw',
    // Domain separation from the CSRF HMAC, which uses the same secret.
    utf8(`session|${options.secret}`),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  key.catch(() => undefined)

  async function mac(body: string): Promise<string> {
    return base64url(new Uint8Array(await crypto.subtle.sign('HMAC', await key, utf8(body))))
  }

  return {
    async issue(user, now) {
      const exp = now + options.lifetimeMs
      const body = base64url(utf8(JSON.stringify({ sub: user.subject, name: user.name, exp })))
      return serializeCookie(COOKIE, `${body}.${await mac(body)}`, {
        secure: options.secure,
        httpOnly: true,
        sameSite: 'Lax',
        maxAge: Math.floor(options.lifetimeMs / 1000),
      })
    },
    async read(request, now) {
      const value = readCookie(request, name)
      if (value === undefined || value.length > 2048) return undefined
      const [body, signature, extra] = value.split('.')
      if (body === undefined || signature === undefined || extra !== undefined) return undefined
      if (!(await timingSafeEqual(await mac(body), signature))) return undefined
      try {
        const data = JSON.parse(new TextDecoder().decode(base64urlDecode(body))) as {
          sub?: unknown
          name?: unknown
          exp?: unknown
        }
        if (typeof data.sub !== 'string' || typeof data.exp !== 'number' || data.exp <= now) return undefined
        return typeof data.name === 'string' ? { subject: data.sub, name: data.name } : { subject: data.sub }
      } catch {
        return undefined
      }
    },
  }
}
