/**
 * Node defaults for the resource server: verifiers that fetch keys, metadata and introspection
 * through the SSRF-safe fetch, the header values read straight from Node's parsed request, and
 * a `node:http` guard.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Context } from 'hono'
import type { AuthInfo, Verifier } from '../resource-server/auth-info.js'
import type { RequestHead } from '../resource-server/bearer-token.js'
import type { FetchLike } from '../resource-server/fetch-json.js'
import {
  type IntrospectionVerifierOptions,
  introspectionVerifier as portableIntrospectionVerifier,
} from '../resource-server/introspection-verifier.js'
import {
  type JwtVerifierOptions,
  jwtVerifier as portableJwtVerifier,
} from '../resource-server/jwt-verifier.js'
import type { ProtectedResource } from '../resource-server/protected-resource.js'
import {
  type CreateRequestOptions,
  tryCreateRequest,
  writeBadRequest,
  writeResponse,
} from './adapters/node-http.js'
import { readBodyUpTo } from './adapters/read-body.js'
import { createSafeFetch, type SafeFetchOptions } from './safe-fetch/safe-fetch.js'

/** Node options: the portable ones, plus how to build the default safe fetch. */
export interface NodeFetchOptions {
  /**
   * Options of the SSRF-safe fetch used when `fetch` is not given (`allowLoopback` for local
   * development, a custom `lookup` for tests, ...). Redirects are never followed.
   */
  safeFetch?: SafeFetchOptions
}

function defaultFetch(options: NodeFetchOptions & { fetch?: FetchLike }): FetchLike {
  return options.fetch ?? createSafeFetch({ maxRedirects: 0, ...options.safeFetch })
}

/**
 * {@link portableJwtVerifier | jwtVerifier} whose metadata and JWKS fetches go through
 * `createSafeFetch()` unless `fetch` is given: a `jwks_uri` (or metadata URL) pointing at a
 * private, link-local or loopback address is refused before any connection.
 *
 * @see [RFC 9700 §4.15](https://www.rfc-editor.org/rfc/rfc9700#section-4.15)
 */
export function jwtVerifier(options: JwtVerifierOptions & NodeFetchOptions): Verifier {
  return portableJwtVerifier({ ...options, fetch: defaultFetch(options) })
}

/**
 * {@link portableIntrospectionVerifier | introspectionVerifier} calling the endpoint through
 * `createSafeFetch()` unless `fetch` is given.
 */
export function introspectionVerifier(options: IntrospectionVerifierOptions & NodeFetchOptions): Verifier {
  return portableIntrospectionVerifier({ ...options, fetch: defaultFetch(options) })
}

/** The portable `protectedResource`, also exported here for Node code that imports from one place. */
export { protectedResource } from '../resource-server/protected-resource.js'

// RFC 9110 §5.5: a field value has no leading or trailing whitespace (SP, HTAB); `Headers` also
// strips CR and LF. The same set as `Headers`, so both paths see the same value.
const isHttpWhitespace = (code: number) => code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d

function trimHttpWhitespace(value: string): string {
  let start = 0
  let end = value.length
  while (start < end && isHttpWhitespace(value.charCodeAt(start))) start++
  while (end > start && isHttpWhitespace(value.charCodeAt(end - 1))) end--
  return start === 0 && end === value.length ? value : value.slice(start, end)
}

const joined = (previous: string | null, value: string) =>
  previous === null ? value : `${previous}, ${value}`

/**
 * The `Authorization` and `Content-Type` values of a Node request, from its raw header list, for
 * `rs.authenticate(request, head)`: what `Headers.get` would return, without building a
 * `Headers` object. Every field line counts (Node's `req.headers` keeps only the first
 * `Authorization`, which would hide a second credential), joined with `, ` as `Headers` joins
 * them.
 */
export function nodeRequestHead(req: Pick<IncomingMessage, 'rawHeaders'>): RequestHead {
  const raw = req.rawHeaders
  let authorization: string | null = null
  let contentType: string | null = null
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!
    if (name.length === 13 && name.toLowerCase() === 'authorization') {
      authorization = joined(authorization, trimHttpWhitespace(raw[i + 1]!))
    } else if (name.length === 12 && name.toLowerCase() === 'content-type') {
      contentType = joined(contentType, trimHttpWhitespace(raw[i + 1]!))
    }
  }
  return { authorization, contentType }
}

/**
 * The `head` option of `honoAuth` on `@hono/node-server`: the header values from the Node
 * request in `c.env.incoming` (so `serve` must pass its env on: `serve({ fetch: app.fetch })`);
 * `undefined` elsewhere, and `honoAuth` then reads `c.req.raw.headers`.
 *
 * @example
 * ```ts
 * app.all('/mcp', honoAuth(rs, { head: honoNodeHead }), handler)
 * serve({ fetch: app.fetch, port: 3000 })
 * ```
 */
export function honoNodeHead(c: Context): RequestHead | undefined {
  const incoming = (c.env as { incoming?: { rawHeaders?: unknown } } | undefined)?.incoming
  return incoming !== undefined && Array.isArray(incoming.rawHeaders)
    ? nodeRequestHead(incoming as Pick<IncomingMessage, 'rawHeaders'>)
    : undefined
}

/** What {@link nodeAuthenticate} resolves to when the request may proceed. */
export interface NodeAuthenticated {
  auth: AuthInfo
  /** The request body, read here (the scope policy needs it); pass it on to the MCP handler. */
  body: Buffer
}

/** Options of {@link nodeAuthenticate}. */
export interface NodeAuthenticateOptions extends Pick<CreateRequestOptions, 'origin'> {
  /** Largest body read, in bytes. Default 4 MiB; larger bodies are answered with `413`. */
  maxBodyBytes?: number
}

/**
 * A guard for plain `node:http` servers. It serves the metadata or a challenge and resolves to
 * `undefined` (the response is sent), or resolves to the verified `AuthInfo` together with the
 * body it read (the scope policy looks at the JSON-RPC body; the stream is consumed, so hand
 * the returned body to the MCP handler).
 *
 * @example
 * ```ts
 * http.createServer(async (req, res) => {
 *   const ok = await nodeAuthenticate(rs, req, res)
 *   if (ok === undefined) return
 *   await transport.handleRequest(req, res, JSON.parse(ok.body.toString()))
 * })
 * ```
 */
export async function nodeAuthenticate(
  rs: ProtectedResource,
  req: IncomingMessage,
  res: ServerResponse,
  options: NodeAuthenticateOptions = {},
): Promise<NodeAuthenticated | undefined> {
  const origin = options.origin === undefined ? {} : { origin: options.origin }
  const head = tryCreateRequest(req, { ...origin, body: null })
  if (head === undefined) {
    writeBadRequest(res)
    return undefined
  }
  const metadata = await rs.metadata(head)
  if (metadata !== undefined) {
    await writeResponse(res, metadata)
    return undefined
  }
  const method = req.method ?? 'GET'
  const body =
    method === 'GET' || method === 'HEAD'
      ? Buffer.alloc(0)
      : await readBodyUpTo(req, options.maxBodyBytes ?? 4 * 1024 * 1024)
  if (body === undefined) {
    res.writeHead(413, { 'content-type': 'application/json', 'cache-control': 'no-store' })
    res.end(JSON.stringify({ error: 'invalid_request', error_description: 'The request body is too large' }))
    return undefined
  }
  const request = tryCreateRequest(req, {
    ...origin,
    body: method === 'GET' || method === 'HEAD' ? null : new Uint8Array(body),
  })
  if (request === undefined) {
    writeBadRequest(res)
    return undefined
  }
  const result = await rs.authenticate(request)
  if (result instanceof Response) {
    await writeResponse(res, result)
    return undefined
  }
  return { auth: result, body }
}
