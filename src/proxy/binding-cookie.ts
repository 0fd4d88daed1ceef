/**
 * The consent-binding cookie: set on the response that sends the browser to the identity provider
 * (right after the user approved), and required on the provider's callback. It ties the callback
 * to the browser that gave consent, so a victim's browser that follows an attacker's upstream URL
 * cannot complete the attacker's transaction (anchors S14, CVE-2026-27124).
 *
 * The value is `nonce.mac`, `mac = HMAC-SHA256(secret, "upstream-binding|" + key + "|" + nonce)`;
 * the upstream transaction keeps only `SHA-256(nonce)`. The cookie is per transaction (its name
 * carries a prefix of the transaction key), `HttpOnly`, `SameSite=Lax` (it must ride the
 * provider's top-level redirect back), `Secure` with the `__Host-` prefix behind https, and lives
 * as long as the transaction (10 minutes).
 *
 * @see [MCP Security Best Practices: Confused Deputy](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#confused-deputy-problem) consent cookies: `__Host-`, `Secure`, `HttpOnly`, `SameSite=Lax`, signed, bound
 * @see [RFC 9700 §4.7.1](https://www.rfc-editor.org/rfc/rfc9700#section-4.7.1) binding the authorization response to the user agent
 * @module
 */
import { cookieName, readCookie, serializeCookie } from '../authorization-server/cookies.js'
import { base64url, randomToken, sha256, timingSafeEqual, utf8 } from '../protocol/random.js'

const BASE_NAME = 'portcullis_upstream'
const NONCE = /^[A-Za-z0-9_-]{43}$/

/** What {@link createBindingCookie} returns. */
export interface BindingCookie {
  /** A fresh binding for the transaction `key`: the `Set-Cookie` value and the digest to store. */
  bind(key: string, maxAgeSeconds: number): Promise<{ setCookie: string; digest: string }>
  /** Whether the request carries the binding cookie of transaction `key` whose digest is `digest`. */
  verify(request: Request, key: string, digest: string): Promise<boolean>
  /** A `Set-Cookie` value deleting the binding of `key`. */
  clear(key: string): string
}

function baseNameFor(key: string): string {
  // A per-transaction name lets two sign-ins run side by side in one browser.
  return `${BASE_NAME}_${key.replace(/[^A-Za-z0-9]/g, '').slice(0, 16)}`
}

/**
 * Creates the binding cookie helper. `secret` is the server's cookie secret (at least 32
 * characters, checked by the caller); it is domain-separated from the CSRF and session uses.
 */
export function createBindingCookie(options: { secret: string; secure: boolean }): BindingCookie {
  const key = crypto.subtle.importKey(
    'raw',
    utf8(`upstream-binding|${options.secret}`),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  )
  key.catch(() => undefined)

  async function mac(transactionKey: string, nonce: string): Promise<string> {
    const signature = await crypto.subtle.sign(
      'HMAC',
      await key,
      utf8(`upstream-binding|${transactionKey}|${nonce}`),
    )
    return base64url(new Uint8Array(signature))
  }

  return {
    async bind(transactionKey, maxAgeSeconds) {
      const nonce = randomToken(32)
      const setCookie = serializeCookie(
        baseNameFor(transactionKey),
        `${nonce}.${await mac(transactionKey, nonce)}`,
        {
          secure: options.secure,
          httpOnly: true,
          sameSite: 'Lax',
          maxAge: maxAgeSeconds,
        },
      )
      return { setCookie, digest: await sha256(nonce) }
    },
    async verify(request, transactionKey, digest) {
      const value = readCookie(request, cookieName(baseNameFor(transactionKey), options.secure))
      if (value === undefined || value.length > 200) return false
      const [nonce, signature, extra] = value.split('.')
      if (nonce === undefined || signature === undefined || extra !== undefined || !NONCE.test(nonce))
        return false
      const [signed, bound] = await Promise.all([
        timingSafeEqual(await mac(transactionKey, nonce), signature),
        timingSafeEqual(await sha256(nonce), digest),
      ])
      return signed && bound
    },
    clear(transactionKey) {
      return serializeCookie(baseNameFor(transactionKey), '', {
        secure: options.secure,
        httpOnly: true,
        sameSite: 'Lax',
        maxAge: 0,
      })
    },
  }
}
