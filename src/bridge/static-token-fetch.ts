/**
 * A `fetch` that sends one static access token, for hosts that obtain tokens themselves (the
 * bridge's `PORTCULLIS_BEARER_TOKEN`). No discovery, no login, no refresh: a refusal is the
 * remote's answer, passed on as it is.
 *
 * @see [RFC 6750 §2.1](https://www.rfc-editor.org/rfc/rfc6750#section-2.1) Authorization request header field
 * @see [MCP Authorization: Token Requirements](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#token-requirements)
 * @module
 */

import { isLoopbackHost } from '../protocol/resource.js'
import { BridgeError } from './errors.js'

// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/** Options of {@link createStaticTokenFetch}. */
export interface StaticTokenFetchOptions {
  /** The underlying fetch. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Told when the remote answers 401 or 403 to the token (e.g. to log that it expired). */
  onRefused?: (status: number) => void
}

/**
 * Wraps `fetch` so that every request carries `Authorization: Bearer <token>`. The token goes
 * over TLS only, or plain http to this machine; never in the query string.
 *
 * @throws {BridgeError} `ERR_INVALID_TOKEN` at creation when the token is not a `b64token`;
 *   the returned fetch rejects with `ERR_INSECURE_URL` before connecting to a non-TLS remote host
 */
export function createStaticTokenFetch(token: string, options: StaticTokenFetchOptions = {}): typeof fetch {
  if (!B64TOKEN.test(token)) {
    throw new BridgeError('ERR_INVALID_TOKEN', 'the bearer token has characters a bearer token cannot have')
  }
  const transport = options.fetch ?? ((input, init) => globalThis.fetch(input, init))
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input)
    // MCP Authorization, Communication Security: tokens travel over TLS; plain http only to this machine.
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopbackHost(url.hostname))) {
      throw new BridgeError('ERR_INSECURE_URL', 'refusing to send a token without TLS', {
        detail: url.origin,
      })
    }
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined))
    headers.set('authorization', `Bearer ${token}`)
    const response = await transport(input, { ...init, headers })
    if (response.status === 401 || response.status === 403) options.onRefused?.(response.status)
    return response
  }
}
