/**
 * A `fetch` for URLs that an untrusted party chooses: metadata discovery, JWKS, Client ID
 * Metadata Documents. It cannot be pointed at private networks, cloud metadata endpoints or this
 * machine, and it bounds what a hostile server can make it wait for or hold in memory.
 *
 * @module
 */

import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { SecureContextOptions } from 'node:tls'
import { NetworkPolicyError } from '../errors.js'
import { type Connector, connectPinned, systemConnector } from './connect.js'
import { type CheckedTarget, checkUrl, type HostRule, type UrlPolicy } from './host-policy.js'
import { isDecodedEncoding, isJsonMediaType, readCappedBody } from './read-body.js'
import { type Hop, isRedirectStatus, redirectHop } from './redirect.js'
import { type Resolver, resolveTarget, systemResolver } from './resolve.js'

/** Options of {@link createSafeFetch}. Every limit has a safe default. */
export interface SafeFetchOptions {
  /**
   * Allow loopback targets (`127.0.0.0/8`, `::1`): `https:` to loopback, and `http:` (which is
   * otherwise refused) to loopback only. For development and tests. Default `false`.
   */
  allowLoopback?: boolean
  /** Egress allow-list: when set, a host must match it. Checked before anything is resolved or sent. */
  allowHosts?: HostRule
  /** Egress deny-list: a matching host is refused. Checked before the allow-list. */
  denyHosts?: HostRule
  /**
   * Redirects followed, each checked like the first request. Default 3. With 0 a redirect response
   * is refused with `ERR_TOO_MANY_REDIRECTS`; a caller that wants the 3xx itself passes
   * `redirect: 'manual'` in the request init.
   */
  maxRedirects?: number
  /** Largest response body, counted on the wire and after decoding. Default 1 MiB. */
  maxBodyBytes?: number
  /** Total time for the whole call: every lookup, connection, redirect, header and body byte. Default 10 s. */
  timeoutMs?: number
  /**
   * Require a JSON media type (`application/json` or `application/*+json`) on 2xx responses; other
   * statuses pass unchecked so that a caller can still tell a 404 from a wrong document.
   */
  expectJson?: boolean
  /** `User-Agent` sent when the request sets none. Default `portcullis`. */
  userAgent?: string
  /** Resolver for host names (default: the operating system's). Its answers are checked like any other. */
  lookup?: Resolver
  /** Opens TCP connections to checked addresses (default `net.connect`). The connected socket is checked again. */
  connect?: Connector
  /** Extra trusted CA certificates for `https:` (e.g. an enterprise or test CA). Replaces Node's defaults when set. */
  ca?: SecureContextOptions['ca']
}

/** The `fetch`-compatible function returned by {@link createSafeFetch}. */
export type SafeFetch = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

const DEFAULT_MAX_REDIRECTS = 3
const DEFAULT_MAX_BODY_BYTES = 1024 * 1024
const DEFAULT_TIMEOUT_MS = 10_000

// Fetch §2.2.3 null body status, plus 1xx that never reach here as a final response.
const NULL_BODY_STATUSES: ReadonlySet<number> = new Set([101, 103, 204, 205, 304])

function nonNegativeInteger(name: string, value: number | undefined, fallback: number, min: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < min)
    throw new RangeError(`${name} must be an integer >= ${min}`)
  return value
}

function parseInputUrl(input: string | URL | Request): URL {
  const raw = input instanceof Request ? input.url : input instanceof URL ? input.href : input
  try {
    return new URL(raw)
  } catch (error) {
    throw new NetworkPolicyError('ERR_INVALID_URL', 'the request URL is not a URL', { cause: error })
  }
}

function send(socket: Socket, hop: Hop, signal: AbortSignal): Promise<IncomingMessage> {
  const headers: OutgoingHttpHeaders = {}
  for (const [name, value] of hop.headers) headers[name] = value
  // Framing and connection handling are ours: the body is always sent with a Content-Length.
  for (const name of ['transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer']) delete headers[name]
  // The Host header always names the URL's authority; a caller cannot aim it elsewhere.
  headers['host'] = hop.url.host
  headers['connection'] = 'close'
  if (hop.body !== null) headers['content-length'] = String(hop.body.byteLength)
  else delete headers['content-length']
  return new Promise<IncomingMessage>((resolve, reject) => {
    const req = httpRequest({
      createConnection: () => socket,
      method: hop.method,
      path: `${hop.url.pathname}${hop.url.search}`,
      headers,
      setHost: false,
    })
    const onAbort = () => req.destroy(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    req.once('response', (res) => {
      signal.removeEventListener('abort', onAbort)
      resolve(res)
    })
    req.once('error', (error) => {
      signal.removeEventListener('abort', onAbort)
      reject(error)
    })
    req.end(hop.body ?? undefined)
  })
}

function toResponse(
  res: IncomingMessage,
  hop: Hop,
  body: Uint8Array<ArrayBuffer> | null,
  redirected: boolean,
): Response {
  const status = res.statusCode ?? 0
  if (status < 200 || status > 599) {
    throw new NetworkPolicyError('ERR_INVALID_RESPONSE', 'the response status cannot be represented', {
      detail: `status ${status} from ${hop.url.host}`,
    })
  }
  const headers = new Headers()
  for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) {
    try {
      headers.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!)
    } catch {
      // A header value Headers cannot hold is dropped rather than failing the response.
    }
  }
  if (body !== null && isDecodedEncoding(res.headers['content-encoding'])) {
    headers.delete('content-encoding')
    headers.delete('content-length')
  }
  const init = { status, headers }
  let response: Response
  try {
    response = new Response(body, { ...init, statusText: res.statusMessage ?? '' })
  } catch {
    response = new Response(body, init)
  }
  const url = new URL(hop.url)
  url.hash = ''
  Object.defineProperty(response, 'url', { value: url.href })
  Object.defineProperty(response, 'redirected', { value: redirected })
  return response
}

/**
 * Creates a `fetch` that refuses to reach anything but global unicast addresses over `https:`.
 *
 * For every hop (the request and each redirect): scheme, userinfo and the host hooks are checked;
 * an IP-literal host is classified, a name is resolved once and every answer classified; the
 * connection goes to a checked address, and the address the socket actually connected to is
 * classified again before the request is written; the TLS handshake uses the URL's host name.
 * Redirects are followed by hand and re-checked. The body is read in full before the promise
 * resolves, under a byte cap, and the whole call runs under one deadline. The caller's
 * `init.signal` aborts it with the signal's reason. Every refusal is a {@link NetworkPolicyError};
 * no error carries the response body.
 *
 * Each call opens its own connection (`Connection: close`): no socket is shared between calls,
 * so every request passes the connected-address check.
 *
 * @example
 * ```ts
 * const fetchMetadata = createSafeFetch({ maxRedirects: 0, maxBodyBytes: 5 * 1024, expectJson: true })
 * const response = await fetchMetadata('https://client.example.com/metadata.json')
 * ```
 *
 * @see [RFC 9728 §7.7](https://www.rfc-editor.org/rfc/rfc9728#section-7.7) server-side request forgery through metadata URLs
 * @see [OAuth Client ID Metadata Document §6.5](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-client-id-metadata-document-00#section-6.5) SSRF attacks
 * @see [MCP Security Best Practices, SSRF](https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices#server-side-request-forgery-ssrf)
 * @see [Fetch §4.4](https://fetch.spec.whatwg.org/#http-redirect-fetch) redirect semantics
 */
export function createSafeFetch(options: SafeFetchOptions = {}): SafeFetch {
  const policy: UrlPolicy = {
    allowLoopback: options.allowLoopback === true,
    allowHosts: options.allowHosts,
    denyHosts: options.denyHosts,
  }
  const maxRedirects = nonNegativeInteger('maxRedirects', options.maxRedirects, DEFAULT_MAX_REDIRECTS, 0)
  const maxBodyBytes = nonNegativeInteger('maxBodyBytes', options.maxBodyBytes, DEFAULT_MAX_BODY_BYTES, 0)
  const timeoutMs = nonNegativeInteger('timeoutMs', options.timeoutMs, DEFAULT_TIMEOUT_MS, 1)
  const resolver = options.lookup ?? systemResolver
  const connector = options.connect ?? systemConnector
  const userAgent = options.userAgent ?? 'portcullis'
  const expectJson = options.expectJson === true

  async function run(first: CheckedTarget, request: Request, signal: AbortSignal): Promise<Response> {
    const headers = new Headers(request.headers)
    if (!headers.has('user-agent')) headers.set('user-agent', userAgent)
    if (!headers.has('accept')) headers.set('accept', expectJson ? 'application/json' : '*/*')
    if (!headers.has('accept-encoding')) headers.set('accept-encoding', 'gzip, deflate, br')
    const body = request.body === null ? null : new Uint8Array(await request.arrayBuffer())
    let hop: Hop = { url: first.url, method: request.method, headers, body }
    let target = first
    const ctx = { connect: connector, allowLoopback: policy.allowLoopback, ca: options.ca, signal }

    for (let redirects = 0; ; redirects++) {
      const addresses = await resolveTarget(target, resolver, policy.allowLoopback, signal)
      const socket = await connectPinned(target, addresses, ctx)
      try {
        const res = await send(socket, hop, signal)
        const status = res.statusCode ?? 0
        const location = res.headers.location
        if (isRedirectStatus(status) && location !== undefined && request.redirect !== 'manual') {
          res.destroy()
          if (request.redirect === 'error' || redirects >= maxRedirects) {
            throw new NetworkPolicyError('ERR_TOO_MANY_REDIRECTS', 'too many redirects', {
              detail: `redirect ${redirects + 1} from ${hop.url.host} (limit ${request.redirect === 'error' ? 0 : maxRedirects})`,
            })
          }
          hop = redirectHop(hop, status, location)
          target = checkUrl(hop.url, policy)
          continue
        }
        if (expectJson && status >= 200 && status < 300 && !isJsonMediaType(res.headers['content-type'])) {
          res.destroy()
          throw new NetworkPolicyError('ERR_CONTENT_TYPE', 'the response is not JSON', {
            detail: `content-type of ${hop.url.host} response is not a JSON media type`,
          })
        }
        let responseBody: Uint8Array<ArrayBuffer> | null = null
        if (hop.method === 'HEAD' || NULL_BODY_STATUSES.has(status)) res.destroy()
        else responseBody = await readCappedBody(res, maxBodyBytes, signal)
        return toResponse(res, hop, responseBody, redirects > 0)
      } finally {
        socket.destroy()
      }
    }
  }

  return async function safeFetch(input: string | URL | Request, init?: RequestInit): Promise<Response> {
    const url = parseInputUrl(input)
    // Checked before a Request is built: nothing about the call is processed for a refused URL.
    const first = checkUrl(url, policy)
    const request = new Request(input instanceof Request ? input : url, init)
    const callerSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
    if (callerSignal?.aborted) throw callerSignal.reason

    const controller = new AbortController()
    const timer = setTimeout(() => {
      controller.abort(
        new NetworkPolicyError('ERR_TIMEOUT', 'the request timed out', {
          detail: `${url.host} did not complete within ${timeoutMs} ms`,
        }),
      )
    }, timeoutMs)
    const onCallerAbort = () => controller.abort(callerSignal?.reason)
    callerSignal?.addEventListener('abort', onCallerAbort, { once: true })
    try {
      return await run(first, request, controller.signal)
    } catch (error) {
      if (controller.signal.aborted) throw controller.signal.reason
      if (error instanceof NetworkPolicyError) throw error
      const code = (error as { code?: unknown } | null)?.code
      throw new NetworkPolicyError('ERR_CONNECTION', 'the request failed', {
        detail: `request to ${url.host}${typeof code === 'string' ? `: ${code}` : ''}`,
        cause: error,
      })
    } finally {
      clearTimeout(timer)
      callerSignal?.removeEventListener('abort', onCallerAbort)
    }
  }
}
