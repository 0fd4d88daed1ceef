/**
 * Double-submit CSRF protection for the login and consent forms, bound to a browser cookie and to
 * the authorization transaction.
 *
 * The cookie holds a random value that binds the browser; the form carries
 * `base64url(HMAC-SHA256(secret, cookieValue + "|" + transactionId))`. A POST is accepted only
 * when it carries both and they agree, so a cross-site POST (which `SameSite=Lax` strips of the
 * cookie) or a token lifted from another transaction fails.
 *
 * @module
 */
import { base64url, randomToken, timingSafeEqual, utf8 } from '../protocol/random.js'
import { cookieName as prefixedCookieName, readCookie, serializeCookie } from './cookies.js'

/** Options of {@link createCsrf}. */
export interface CsrfOptions {
  /**
   * The HMAC key: an HMAC `CryptoKey` usable for `sign`, or a string of at least 32 characters
   * (its UTF-8 bytes are the key). Every replica must share it.
   */
  secret: CryptoKey | string
  /** `true` behind HTTPS: the cookie becomes `__Host-…; Secure`. */
  secure: boolean
  /** Base name of the binding cookie. Default `portcullis_csrf`. */
  cookieName?: string
}

/** What {@link createCsrf} returns. */
export interface Csrf {
  /**
   * The token for the form of `transactionId`, and the `Set-Cookie` value to send when the browser
   * has no binding cookie yet. An existing cookie is reused, so a second GET of the page (a
   * prefetch, a reload) leaves the first form valid.
   */
  issue(request: Request, transactionId: string): Promise<{ token: string; setCookie?: string }>
  /** Whether `token` is the one issued to this browser for `transactionId`. */
  verify(request: Request, transactionId: string, token: string | undefined): Promise<boolean>
}

const DEFAULT_COOKIE = 'portcullis_csrf'
// 32 random bytes in base64url; anything else in the cookie is ignored and replaced.
const BINDING_VALUE = /^[A-Za-z0-9_-]{43}$/
const MIN_SECRET_LENGTH = 32
const MAX_TOKEN_LENGTH = 128

/**
 * Creates the double-submit CSRF helper. Throws `TypeError` at construction when the secret is
 * missing or too short (fail closed).
 *
 * @see [OWASP CSRF Prevention, signed double-submit cookie](https://cheatsheetseries.owasp.org/cheatsheets/Cross-Site_Request_Forgery_Prevention_Cheat_Sheet.html#signed-double-submit-cookie-recommended)
 * @see [RFC 9700 §4.7](https://www.rfc-editor.org/rfc/rfc9700#section-4.7) CSRF
 * @see [MCP Security Best Practices, confused deputy](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem) consent must resist CSRF
 */
export function createCsrf(options: CsrfOptions): Csrf {
  const { secret, secure } = options
  if (typeof secret === 'string') {
    if (secret.length < MIN_SECRET_LENGTH) {
      throw new TypeError(`the CSRF secret must be at least ${MIN_SECRET_LENGTH} characters`)
    }
  } else if (typeof secret !== 'object' || secret === null || secret.type !== 'secret') {
    throw new TypeError('the CSRF secret must be a string or an HMAC CryptoKey')
  }
  const base = options.cookieName ?? DEFAULT_COOKIE
  const name = prefixedCookieName(base, secure)
  const key: Promise<CryptoKey> =
    typeof secret === 'string'
      ? crypto.subtle.importKey('raw', utf8(secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign'])
      : Promise.resolve(secret)
  // Keep an unhandled rejection from surfacing before the first use; use sites await `key`.
  key.catch(() => undefined)

  async function tokenFor(binding: string, transactionId: string): Promise<string> {
    const mac = await crypto.subtle.sign('HMAC', await key, utf8(`${binding}|${transactionId}`))
    return base64url(new Uint8Array(mac))
  }

  function bindingOf(request: Request): string | undefined {
    const value = readCookie(request, name)
    return value !== undefined && BINDING_VALUE.test(value) ? value : undefined
  }

  return {
    async issue(request, transactionId) {
      const existing = bindingOf(request)
      if (existing !== undefined) return { token: await tokenFor(existing, transactionId) }
      const binding = randomToken(32)
      return {
        token: await tokenFor(binding, transactionId),
        setCookie: serializeCookie(base, binding, { secure, httpOnly: true, sameSite: 'Lax', path: '/' }),
      }
    },
    async verify(request, transactionId, token) {
      if (typeof token !== 'string' || token === '' || token.length > MAX_TOKEN_LENGTH) return false
      // S15: a POST without the binding cookie (cross-site, SameSite=Lax) fails even with a valid token.
      const binding = bindingOf(request)
      if (binding === undefined) return false
      return timingSafeEqual(await tokenFor(binding, transactionId), token)
    },
  }
}
