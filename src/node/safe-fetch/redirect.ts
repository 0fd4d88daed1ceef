/**
 * Manual redirect handling: the next hop is built here and then checked by the same policy as
 * the first request before anything is resolved or sent.
 *
 * @module
 */

import { NetworkPolicyError } from '../errors.js'

/** One request of a redirect chain; the body is buffered so that 307/308 can send it again. */
export interface Hop {
  url: URL
  method: string
  headers: Headers
  body: Uint8Array | null
}

const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308])

/** Whether `status` is one the Fetch standard follows. */
export function isRedirectStatus(status: number): boolean {
  return REDIRECT_STATUSES.has(status)
}

const REQUEST_BODY_HEADERS = [
  'content-encoding',
  'content-language',
  'content-location',
  'content-type',
  'content-length',
]
const CREDENTIAL_HEADERS = ['authorization', 'proxy-authorization', 'cookie']

/**
 * The request that follows a redirect response, as the Fetch standard builds it: the `Location` is
 * resolved against the current URL; 301/302 after POST and 303 after anything but GET/HEAD become a
 * GET without a body; 307/308 keep method and body. Credentials are dropped when the origin changes.
 *
 * @see [Fetch §4.4 HTTP-redirect fetch](https://fetch.spec.whatwg.org/#http-redirect-fetch)
 * @see [RFC 9110 §15.4](https://www.rfc-editor.org/rfc/rfc9110#section-15.4) redirection 3xx
 */
export function redirectHop(current: Hop, status: number, location: string): Hop {
  let url: URL
  try {
    url = new URL(location, current.url)
  } catch (error) {
    throw new NetworkPolicyError('ERR_INVALID_URL', 'the redirect location is not a URL', {
      detail: `redirect from ${current.url.host}`,
      cause: error,
    })
  }
  const headers = new Headers(current.headers)
  let { method, body } = current
  if (
    ((status === 301 || status === 302) && method === 'POST') ||
    (status === 303 && method !== 'GET' && method !== 'HEAD')
  ) {
    method = 'GET'
    body = null
    for (const name of REQUEST_BODY_HEADERS) headers.delete(name)
  }
  if (url.origin !== current.url.origin) {
    for (const name of CREDENTIAL_HEADERS) headers.delete(name)
  }
  return { url, method, headers, body }
}
