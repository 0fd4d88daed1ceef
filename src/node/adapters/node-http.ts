/**
 * A bridge between `node:http` and web-standard `Request` / `Response`, so every server role
 * (a `fetch(request) → Promise<Response>` handler) can be mounted on a plain Node server.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable } from 'node:stream'

/** A web-standard request handler. */
/** A `fetch`-style handler; Node adapters also pass the incoming message (e.g. for the socket address). */
export type FetchHandler = (request: Request, incoming: IncomingMessage) => Response | Promise<Response>

/** Options of {@link createRequest}. */
export interface CreateRequestOptions {
  /**
   * The origin the server is reached at, e.g. `https://mcp.example.com`. Default: `http://` plus
   * the `Host` header (or `localhost`). Behind a proxy, set it: the `Host` header is the client's.
   */
  origin?: string
  /**
   * The body to use instead of reading `req` (for frameworks whose body parser consumed the
   * stream already).
   */
  body?: BodyInit | null
}

const NO_BODY = new Set(['GET', 'HEAD'])

/**
 * Builds a `Request` from an `IncomingMessage`. Headers come from `rawHeaders`, so a header sent
 * twice stays visible (Node keeps only the first `Authorization` in `req.headers`; `Headers`
 * joins both with `, `). The body streams from `req` unless one is given. The request is
 * aborted when the client goes away.
 */
export function createRequest(req: IncomingMessage, options: CreateRequestOptions = {}): Request {
  const headers = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    // HTTP/2 pseudo-headers are not fields.
    if (name.charCodeAt(0) !== 0x3a) headers.append(name, raw[i + 1]!)
  }
  const origin = options.origin ?? `http://${req.headers.host ?? 'localhost'}`
  const url = new URL(req.url ?? '/', origin)
  const method = req.method ?? 'GET'
  const controller = new AbortController()
  req.once('close', () => {
    if (!req.complete) controller.abort()
  })
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal: controller.signal }
  if (!NO_BODY.has(method)) {
    if (options.body !== undefined) {
      init.body = options.body
    } else {
      init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>
      init.duplex = 'half'
    }
  }
  return new Request(url, init)
}

/**
 * Writes a `Response` to a `ServerResponse`: status, headers (each `Set-Cookie` on its own
 * line) and the body, streamed with back-pressure.
 */
export async function writeResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of response.headers) {
    if (name === 'set-cookie') continue
    headers[name] = value
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  res.writeHead(response.status, response.statusText || undefined, headers)
  if (response.body === null) {
    res.end()
    return
  }
  const reader = response.body.getReader()
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      if (!res.write(value)) {
        await new Promise<void>((resolve) => {
          const resume = () => {
            res.off('drain', resume)
            res.off('close', resume)
            resolve()
          }
          res.once('drain', resume)
          res.once('close', resume)
        })
      }
      if (res.destroyed) {
        await reader.cancel()
        return
      }
    }
    res.end()
  } catch (error) {
    res.destroy(error instanceof Error ? error : undefined)
  }
}

/** Options of {@link toNodeHandler}. */
export interface NodeHandlerOptions extends Pick<CreateRequestOptions, 'origin'> {
  /** Called when the handler throws; the client gets a bare `500`. */
  onError?: (error: unknown) => void
}

/**
 * {@link createRequest}, or `undefined` when Node accepted a request that a web `Request` cannot
 * hold (a `TRACE` method, a target that is no URL). That is the client's fault: answer it with
 * {@link writeBadRequest}, never a 500.
 */
export function tryCreateRequest(
  req: IncomingMessage,
  options: CreateRequestOptions = {},
): Request | undefined {
  try {
    return createRequest(req, options)
  } catch {
    return undefined
  }
}

/** Answers `400 Bad Request` (RFC 9110 §15.5.1) to a request that could not be read. */
export function writeBadRequest(res: ServerResponse): void {
  res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' })
  res.end('Bad Request')
}

/**
 * Turns a `fetch`-style handler into a `node:http` request listener.
 *
 * @example
 * ```ts
 * http.createServer(toNodeHandler((request) => app.fetch(request))).listen(3000, '127.0.0.1')
 * ```
 */
export function toNodeHandler(
  handler: FetchHandler,
  options: NodeHandlerOptions = {},
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const request = tryCreateRequest(req, options.origin === undefined ? {} : { origin: options.origin })
    if (request === undefined) return writeBadRequest(res)
    let response: Response
    try {
      response = await handler(request, req)
    } catch (error) {
      options.onError?.(error)
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
        res.end('Internal Server Error')
      } else {
        res.destroy()
      }
      return
    }
    await writeResponse(res, response)
  }
}
