/**
 * Node defaults for the authorization server: Client ID Metadata Documents and client `jwks_uri`
 * fetched through the SSRF-safe fetch, the socket's address for per-address rate limits, and a
 * `node:http` request listener.
 *
 * @module
 */
import {
  createPrivateKey,
  type JsonWebKeyInput,
  type KeyObject,
  randomBytes,
  randomFillSync,
  sign,
} from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CIMD_MAX_BYTES } from '../authorization-server/clients/cimd.js'
import { bufferedText } from '../authorization-server/deferred-response.js'
import type { AuthorizationServerOptions, CimdOptions } from '../authorization-server/options.js'
import {
  type AuthorizationServer,
  adapterFetch,
  createAuthorizationServer,
} from '../authorization-server/server.js'
import type { JwtSigner } from '../authorization-server/tokens.js'
import { sha256Base64url } from '../storage/sql/node-crypto.js'
import { type CreateRequestOptions, createRequest } from './adapters/node-http.js'
import { createSafeFetch, type SafeFetchOptions } from './safe-fetch/safe-fetch.js'

/** The outbound fetches of an authorization server (or a proxy) on Node, each with a safe default. */
export interface NodeOutboundFetchOptions {
  /**
   * Client ID Metadata Documents: enabled by default with the SSRF-safe fetch (5 KiB cap, no
   * redirects, 5 s); `false` disables them.
   */
  cimd?: false | (Omit<CimdOptions, 'fetch'> & { fetch?: CimdOptions['fetch'] })
  /** Fetch for client `jwks_uri` and ID-JAG issuer keys. Default: the SSRF-safe fetch. */
  fetch?: AuthorizationServerOptions['fetch']
  /** Options of the default safe fetches (e.g. `allowLoopback` for local development, `lookup` in tests). */
  safeFetch?: SafeFetchOptions
}

/** Options of {@link createNodeAuthorizationServer}. */
export interface NodeAuthorizationServerOptions
  extends Omit<AuthorizationServerOptions, 'cimd' | 'fetch'>,
    NodeOutboundFetchOptions {}

/**
 * The portable `fetch` and `cimd` options, each fetch the given one or the SSRF-safe fetch: JSON
 * only, no redirects, 64 KiB in 5 s for client `jwks_uri` and ID-JAG issuer keys, 5 KiB in
 * `cimd.timeoutMs` for Client ID Metadata Documents (unless `cimd` is `false`).
 *
 * @see [CIMD §6.5, §6.6](https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/) SSRF, response size
 */
export function safeOutboundFetches(options: NodeOutboundFetchOptions): {
  fetch: NonNullable<AuthorizationServerOptions['fetch']>
  cimd?: CimdOptions
} {
  const jsonFetch = (maxBodyBytes: number, timeoutMs: number) =>
    createSafeFetch({ maxRedirects: 0, maxBodyBytes, timeoutMs, expectJson: true, ...options.safeFetch })
  const out: ReturnType<typeof safeOutboundFetches> = { fetch: options.fetch ?? jsonFetch(64 * 1024, 5000) }
  const cimd = options.cimd
  if (cimd !== false) {
    out.cimd = { ...cimd, fetch: cimd?.fetch ?? jsonFetch(CIMD_MAX_BYTES, cimd?.timeoutMs ?? 5000) }
  }
  return out
}

/** The options {@link nodeServerDefaults} fills in. */
type NodeDefaulted = 'fetch' | 'cimd' | 'getClientAddress' | 'sha256' | 'signJwt' | 'randomToken'

/**
 * The Node defaults of the authorization server and the proxy: the SSRF-safe outbound fetches,
 * each request's socket address (recorded in `addresses` by the listener) for the registration
 * rate limits, and hashing, signing and random tokens on `node:crypto`, without Web Crypto's
 * thread-pool round trip. Options given explicitly win.
 */
export function nodeServerDefaults(
  options: NodeOutboundFetchOptions &
    Pick<AuthorizationServerOptions, Exclude<NodeDefaulted, 'fetch' | 'cimd'>>,
  addresses: WeakMap<Request, string>,
): Pick<AuthorizationServerOptions, NodeDefaulted> {
  return {
    ...safeOutboundFetches(options),
    getClientAddress: (request) => addresses.get(request) ?? options.getClientAddress?.(request),
    sha256: options.sha256 ?? sha256Sync,
    signJwt: options.signJwt ?? createNodeJwtSigner(),
    randomToken: options.randomToken ?? pooledRandomToken,
  }
}

/** SHA-256 base64url with `node:crypto`: the same output as Web Crypto, without a thread-pool hop. */
export const sha256Sync: (text: string) => string = sha256Base64url

// Keys by kid; a server signs with one or two keys at a time (rotation).
const MAX_SIGNING_KEYS = 16

function base64urlJson(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url')
}

/**
 * Creates a JWT signer on `node:crypto`: ES256 (ECDSA P-256 with SHA-256), the signature in the
 * JWS encoding (R || S, `dsaEncoding: 'ieee-p1363'`), synchronous, so no thread-pool round trip.
 * The private key is imported once per `kid`.
 *
 * @see [RFC 7515 §7.1](https://www.rfc-editor.org/rfc/rfc7515#section-7.1) JWS Compact Serialization
 * @see [RFC 7518 §3.4](https://www.rfc-editor.org/rfc/rfc7518#section-3.4) ES256 signature encoding
 */
export function createNodeJwtSigner(): JwtSigner {
  const keys = new Map<string, KeyObject>()
  return ({ header, payload, key }) => {
    if (header.alg !== 'ES256' || key.alg !== 'ES256') throw new TypeError('only ES256 is supported')
    let keyObject = keys.get(key.kid)
    if (keyObject === undefined) {
      keyObject = createPrivateKey({ key: key.privateJwk as JsonWebKeyInput['key'], format: 'jwk' })
      if (keys.size >= MAX_SIGNING_KEYS) keys.delete(keys.keys().next().value as string)
      keys.set(key.kid, keyObject)
    }
    const signingInput = `${base64urlJson(header)}.${base64urlJson(payload)}`
    const signature = sign('sha256', Buffer.from(signingInput, 'ascii'), {
      key: keyObject,
      dsaEncoding: 'ieee-p1363',
    })
    return `${signingInput}.${signature.toString('base64url')}`
  }
}

// Random bytes are drawn from the CSPRNG 4 KiB at a time: one call per ~100 tokens, not one each.
const RANDOM_POOL_BYTES = 4096
const randomPool = Buffer.alloc(RANDOM_POOL_BYTES)
let randomOffset = RANDOM_POOL_BYTES

/**
 * `randomToken` on `node:crypto`: `byteLength` bytes (default 32) from a pool refilled with
 * `randomFillSync`, base64url. Each byte is handed out once and wiped from the pool.
 *
 * @see [RFC 6749 §10.10](https://www.rfc-editor.org/rfc/rfc6749#section-10.10) credentials guessing
 */
export function pooledRandomToken(byteLength = 32): string {
  if (byteLength > RANDOM_POOL_BYTES) return randomBytes(byteLength).toString('base64url')
  if (randomOffset + byteLength > RANDOM_POOL_BYTES) {
    randomFillSync(randomPool)
    randomOffset = 0
  }
  const token = randomPool.toString('base64url', randomOffset, randomOffset + byteLength)
  randomPool.fill(0, randomOffset, randomOffset + byteLength)
  randomOffset += byteLength
  return token
}

// Bodies the server accepts are small (forms, registration JSON); anything larger is refused anyway.
const MAX_BUFFERED_BODY = 64 * 1024

/** Reads a small declared body into memory, which is cheaper than a web stream; others stream. */
async function bufferedBody(req: IncomingMessage): Promise<Pick<CreateRequestOptions, 'body'>> {
  if (req.method === 'GET' || req.method === 'HEAD') return {}
  const declared = Number(req.headers['content-length'])
  if (!Number.isSafeInteger(declared) || declared > MAX_BUFFERED_BODY) return {}
  if (declared === 0) return { body: null }
  return { body: (await readBody(req)) as unknown as BodyInit }
}

/**
 * The body of `req`, from its events: an async iterator over the stream costs more than the read
 * of a token request's form. Rejects on a stream error or when the request closes unfinished.
 */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)))
    req.once('error', reject)
    req.once('close', () => {
      if (!req.complete) reject(new Error('the request closed before its body arrived'))
    })
  })
}

// Methods a web Request refuses (Fetch: forbidden methods); Node's parser accepts them.
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK'])
const BODY_READERS = new Set(['text', 'arrayBuffer', 'json', 'blob', 'formData', 'bytes'])

/**
 * A `Request` over a body already in memory. Building undici's `Request` (a body stream, its
 * bookkeeping) costs more than a token request's own work, and the server needs only the method,
 * URL, headers and body; so those are served directly, and any other member is taken from a real
 * `Request` built on first use. Once the body has been read here, it reads as used everywhere.
 * Throws, like `new Request`, on a forbidden method or a target that is no URL.
 */
function bufferedRequest(req: IncomingMessage, origin: string, body: Buffer | null): Request {
  const method = req.method ?? 'GET'
  if (FORBIDDEN_METHODS.has(method.toUpperCase())) throw new TypeError('forbidden method')
  const url = new URL(req.url ?? '/', origin).href
  const headers = new Headers()
  const raw = req.rawHeaders
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    // HTTP/2 pseudo-headers are not fields.
    if (name.charCodeAt(0) !== 0x3a) headers.append(name, raw[i + 1]!)
  }
  let used = false
  let real: Request | undefined
  const take = async (): Promise<Buffer> => {
    if (used) throw new TypeError('Body is unusable: Body has already been read')
    used = true
    return body ?? Buffer.alloc(0)
  }
  const own: Record<string, unknown> = {
    method,
    url,
    headers,
    text: async () => (await take()).toString('utf8'),
    arrayBuffer: async () => {
      const bytes = await take()
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)
    },
    json: async () => JSON.parse((await take()).toString('utf8')) as unknown,
  }
  return new Proxy(Object.create(Request.prototype) as Request, {
    get(_target, property) {
      if (real === undefined) {
        if (typeof property === 'string' && Object.hasOwn(own, property)) return own[property]
        if (property === 'bodyUsed') return used
        if (used && typeof property === 'string' && (BODY_READERS.has(property) || property === 'clone')) {
          return () => Promise.reject(new TypeError('Body is unusable: Body has already been read'))
        }
        real = new Request(url, { method, headers, body: used ? null : (body as BodyInit | null) })
      }
      if (property === 'bodyUsed') return used || real.bodyUsed
      const value = Reflect.get(real, property, real) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value
    },
  })
}

/**
 * Writes an answer of the authorization server (always small: JSON, a page, the stylesheet) in one
 * piece, so status line, headers and body leave in one write with a `Content-Length`.
 */
async function writeBufferedResponse(res: ServerResponse, response: Response): Promise<void> {
  const headers: Record<string, string | string[]> = {}
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') headers[name] = value
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) headers['set-cookie'] = cookies
  const text = bufferedText(response)
  const body =
    text !== undefined
      ? Buffer.from(text, 'utf8')
      : response.body === null
        ? undefined
        : Buffer.from(await response.arrayBuffer())
  if (response.status !== 204 && response.status !== 304)
    headers['content-length'] = String(body?.length ?? 0)
  res.writeHead(response.status, response.statusText || undefined, headers)
  res.end(body)
}

/** The authorization server plus a `node:http` request listener. */
export interface NodeAuthorizationServer extends AuthorizationServer {
  /** `http.createServer(as.listener)`: passes the socket's address to the rate limits. */
  listener(req: IncomingMessage, res: ServerResponse): Promise<void>
}

/**
 * {@link createAuthorizationServer} with Node defaults: outbound fetches are SSRF-safe (private,
 * loopback and link-local addresses refused, redirects refused, bodies capped) and the source
 * address of each request comes from its socket.
 *
 * @see [CIMD §6.5](https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/) SSRF
 * @see [MCP Security Best Practices: SSRF](https://modelcontextprotocol.io/specification/2025-11-25/basic/security_best_practices#server-side-request-forgery-ssrf)
 */
export function createNodeAuthorizationServer(
  options: NodeAuthorizationServerOptions,
): NodeAuthorizationServer {
  const addresses = new WeakMap<Request, string>()
  const { cimd, fetch, safeFetch, ...rest } = options
  const portable: AuthorizationServerOptions = { ...rest, ...nodeServerDefaults(options, addresses) }
  const server = createAuthorizationServer(portable)
  const serve = adapterFetch(server)
  const origin = new URL(options.issuer).origin
  return {
    ...server,
    async listener(req, res) {
      let request: Request
      try {
        const { body } = await bufferedBody(req)
        request =
          body === undefined && req.method !== 'GET' && req.method !== 'HEAD'
            ? createRequest(req, { origin })
            : bufferedRequest(req, origin, (body ?? null) as Buffer | null)
      } catch {
        // A method a Request cannot carry (TRACE, CONNECT) or a target that is no URL: the
        // client's request is at fault, not the server.
        if (!res.headersSent) {
          res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' })
          res.end('Bad Request')
        }
        return
      }
      let response: Response
      try {
        if (req.socket.remoteAddress !== undefined) addresses.set(request, req.socket.remoteAddress)
        response = await serve(request)
      } catch {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          res.end('Internal Server Error')
        }
        return
      }
      try {
        await writeBufferedResponse(res, response)
      } catch (error) {
        res.destroy(error instanceof Error ? error : undefined)
      }
    },
  }
}
