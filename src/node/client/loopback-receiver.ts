/**
 * The loopback redirect receiver: a one-shot HTTP listener on `127.0.0.1` (or `[::1]`) that
 * takes the authorization response of a native client's login.
 *
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) loopback interface redirection
 * @see [RFC 8252 §8.3](https://www.rfc-editor.org/rfc/rfc8252#section-8.3) loopback redirect considerations
 * @module
 */

import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { ClientError } from '../../client/errors.js'
import { timingSafeEqual } from '../../protocol/random.js'

/** Options of {@link createLoopbackReceiver}. */
export interface LoopbackReceiverOptions {
  /** `127.0.0.1` (default) or `::1`. Never a wildcard address. */
  host?: '127.0.0.1' | '::1'
  /** A fixed port, for authorization servers that match redirect URIs exactly. Default: random. */
  port?: number
  /** The callback path. Default `/callback`. */
  path?: string
  /** How long to wait for the callback. Default 5 minutes. */
  timeoutMs?: number
}

/** A listening receiver. Single use: closes after the first accepted callback. */
export interface LoopbackReceiver {
  /** `http://127.0.0.1:<port><path>` (or `http://[::1]:...`). */
  readonly redirectUri: string
  /** The listening server (for inspection; do not add handlers). */
  readonly server: Server
  /**
   * Resolves with the parameters of the first callback whose `state` equals `state`. Callbacks
   * with a wrong or missing `state` are answered with an error page and the wait goes on.
   */
  waitForCallback(state: string): Promise<URLSearchParams>
  close(): Promise<void>
}

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
}

/** Escapes text for HTML element content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

function page(response: ServerResponse, status: number, title: string, message: string): void {
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p></main></body></html>`
  response.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'cache-control': 'no-store',
    'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
  })
  response.end(body)
}

/**
 * Starts a receiver. It binds the loopback address only, answers only `GET <path>` with a
 * `Host` naming itself (no other endpoints, no DNS-rebinding), and accepts only the callback
 * that carries the awaited `state`.
 *
 * @throws {ClientError} `ERR_INVALID_OPTIONS` for a bad path or port
 */
export async function createLoopbackReceiver(
  options: LoopbackReceiverOptions = {},
): Promise<LoopbackReceiver> {
  const host = options.host ?? '127.0.0.1'
  if (host !== '127.0.0.1' && host !== '::1') {
    throw new ClientError('ERR_INVALID_OPTIONS', 'the receiver binds 127.0.0.1 or ::1 only')
  }
  const path = options.path ?? '/callback'
  if (!/^\/[A-Za-z0-9._~\-/]*$/.test(path)) {
    throw new ClientError('ERR_INVALID_OPTIONS', 'the callback path must be a plain absolute path')
  }
  const port = options.port ?? 0
  if (!Number.isSafeInteger(port) || port < 0 || port > 65535) {
    throw new ClientError('ERR_INVALID_OPTIONS', 'invalid port')
  }
  const timeoutMs = options.timeoutMs ?? 5 * 60_000

  let expected: string | undefined
  let settle: { resolve: (p: URLSearchParams) => void; reject: (e: Error) => void } | undefined
  let done = false
  let authority = ''

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    // DNS rebinding (anchors S24): only our own authority is a valid Host.
    if (request.headers.host !== authority) {
      page(response, 400, 'Request refused', 'This address only accepts the login redirect.')
      return
    }
    const url = new URL(request.url ?? '/', `http://${authority}`)
    if (request.method !== 'GET' || url.pathname !== path) {
      page(response, 404, 'Not found', 'Nothing here.')
      return
    }
    if (done) {
      page(response, 410, 'Login already finished', 'You can close this window.')
      return
    }
    const states = url.searchParams.getAll('state')
    const matches =
      expected !== undefined && states.length === 1 && (await timingSafeEqual(states[0]!, expected))
    if (!matches || settle === undefined) {
      // Anchors S4: a forged or stale callback is refused and the real login keeps waiting.
      page(response, 400, 'Login not recognized', 'This response does not belong to a login in progress.')
      return
    }
    done = true
    const failed = url.searchParams.has('error')
    page(
      response,
      200,
      failed ? 'Login not completed' : 'Login received',
      failed
        ? 'The authorization server did not grant access. You can close this window.'
        : 'You can close this window and return to the application.',
    )
    settle.resolve(new URLSearchParams(url.searchParams))
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) page(response, 500, 'Error', 'Something went wrong.')
    })
  })
  server.keepAliveTimeout = 1000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const address = server.address() as AddressInfo
  authority = host === '::1' ? `[::1]:${address.port}` : `127.0.0.1:${address.port}`

  let closed: Promise<void> | undefined
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      server.closeAllConnections?.()
      server.close(() => resolve())
    })
    return closed
  }

  return {
    redirectUri: `http://${authority}${path}`,
    server,
    waitForCallback(state: string): Promise<URLSearchParams> {
      if (expected !== undefined) {
        return Promise.reject(new ClientError('ERR_INVALID_OPTIONS', 'the receiver is single use'))
      }
      expected = state
      return new Promise<URLSearchParams>((resolve, reject) => {
        const timer = setTimeout(() => {
          done = true
          reject(new ClientError('ERR_REDIRECT', 'no authorization response arrived in time'))
          void close()
        }, timeoutMs)
        timer.unref?.()
        settle = {
          resolve: (params) => {
            clearTimeout(timer)
            resolve(params)
            // Let the success page go out before closing.
            setImmediate(() => void close())
          },
          reject,
        }
      })
    },
    close,
  }
}
