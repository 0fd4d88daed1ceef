/**
 * Node defaults for the resource server: verifiers that fetch keys, metadata and introspection
 * through the SSRF-safe fetch, a synchronous token hash for the verified-token cache, and a
 * `node:http` guard.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AuthInfo, Verifier } from '../resource-server/auth-info.js'
import type { FetchLike } from '../resource-server/fetch-json.js'
import {
  type IntrospectionVerifierOptions,
  introspectionVerifier as portableIntrospectionVerifier,
} from '../resource-server/introspection-verifier.js'
import {
  type JwtVerifierOptions,
  jwtVerifier as portableJwtVerifier,
} from '../resource-server/jwt-verifier.js'
import {
  type ProtectedResource,
  type ProtectedResourceOptions,
  protectedResource as portableProtectedResource,
} from '../resource-server/protected-resource.js'
import { sha256Base64url } from '../storage/sql/node-crypto.js'
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

/** SHA-256 of a token, base64url, computed synchronously with `node:crypto`. */
export const sha256TokenHash: (token: string) => string = sha256Base64url

/**
 * {@link portableProtectedResource | protectedResource} with the verified-token cache keyed by
 * a synchronous `node:crypto` SHA-256 (no thread-pool round trip per request).
 */
export function protectedResource(options: ProtectedResourceOptions): ProtectedResource {
  const cache = options.cache === false ? false : { hash: sha256TokenHash, ...options.cache }
  return portableProtectedResource({ ...options, cache })
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
