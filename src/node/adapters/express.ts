/**
 * Express middleware for a resource server: Protected Resource Metadata and bearer
 * authentication, with `req.auth` set the way the official MCP SDK v1 expects.
 *
 * @module
 */

import type {
  Request as ExpressRequest,
  Response as ExpressResponse,
  NextFunction,
  RequestHandler,
} from 'express'
import { type AuthInfo, type SdkAuthInfo, toSdkAuthInfo } from '../../resource-server/auth-info.js'
import type { ProtectedResource } from '../../resource-server/protected-resource.js'
import { tryCreateRequest, writeBadRequest, writeResponse } from './node-http.js'
import { readBodyUpTo } from './read-body.js'

/** What {@link expressAuth} leaves on `res.locals`. */
export interface PortcullisLocals {
  portcullis: { auth: AuthInfo }
}

/** Options of the Express middleware. */
export interface ExpressAdapterOptions {
  /** The origin clients reach the server at (see `createRequest`). Default: from the `Host` header. */
  origin?: string
  /** Largest body read when no body parser ran before, in bytes. Default 4 MiB. */
  maxBodyBytes?: number
}

const NO_BODY = new Set(['GET', 'HEAD'])

function isJson(req: ExpressRequest): boolean {
  const type = req.headers['content-type']?.toLowerCase() ?? ''
  return /^application\/(?:[\w.+-]+\+)?json(?:\s*;|$)/.test(type)
}

/**
 * The body of an Express request for `authenticate`: the parsed `req.body` when a body parser
 * ran; otherwise the raw body is read here (bounded), and for JSON requests `req.body` is set to
 * the parsed value, as `express.json()` would, so the MCP transport behind still gets it.
 */
async function bodyFor(req: ExpressRequest, maxBytes: number): Promise<BodyInit | null | 'too-large'> {
  if (NO_BODY.has(req.method)) return null
  const parsed: unknown = req.body
  if (parsed !== undefined) {
    if (typeof parsed === 'string') return parsed
    if (Buffer.isBuffer(parsed)) return new Uint8Array(parsed)
    return JSON.stringify(parsed)
  }
  if (req.readableEnded) return null
  const raw = await readBodyUpTo(req, maxBytes)
  if (raw === undefined) return 'too-large'
  if (isJson(req)) {
    try {
      req.body = JSON.parse(raw.toString('utf8'))
    } catch {
      // Left unset: the MCP transport answers the parse error.
    }
  }
  return new Uint8Array(raw)
}

/**
 * Serves the Protected Resource Metadata at its well-known paths; calls `next()` for anything
 * else. Mount it before any authentication.
 *
 * @see [RFC 9728 §3](https://www.rfc-editor.org/rfc/rfc9728#section-3)
 */
export function expressMetadata(rs: ProtectedResource, options: ExpressAdapterOptions = {}): RequestHandler {
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    const request = tryCreateRequest(req, {
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      body: null,
    })
    if (request === undefined) return writeBadRequest(res)
    rs.metadata(request).then(
      (response) => (response === undefined ? next() : writeResponse(res, response)),
      next,
    )
  }
}

/**
 * Authenticates each request. On success `req.auth` is the SDK v1 `AuthInfo`
 * (`@modelcontextprotocol/sdk/server/auth/types.js`; see `toSdkAuthInfo`) and
 * `res.locals.portcullis.auth` is Portcullis's own `AuthInfo`; otherwise the challenge response
 * is sent and the chain stops.
 *
 * Repeated `Authorization` headers are seen (they are read from `rawHeaders`), and per-tool
 * scopes work with or without `express.json()` in front.
 *
 * @example
 * ```ts
 * app.use(expressMetadata(rs))
 * app.post('/mcp', express.json(), expressAuth(rs), (req, res) => transport.handleRequest(req, res, req.body))
 * ```
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 */
export function expressAuth(rs: ProtectedResource, options: ExpressAdapterOptions = {}): RequestHandler {
  const maxBodyBytes = options.maxBodyBytes ?? 4 * 1024 * 1024
  return (req: ExpressRequest, res: ExpressResponse, next: NextFunction) => {
    const run = async () => {
      const body = await bodyFor(req, maxBodyBytes)
      if (body === 'too-large') {
        res.status(413).json({ error: 'invalid_request', error_description: 'The request body is too large' })
        return
      }
      const request = tryCreateRequest(req, {
        ...(options.origin === undefined ? {} : { origin: options.origin }),
        body,
      })
      if (request === undefined) return writeBadRequest(res)
      const result = await rs.authenticate(request)
      if (result instanceof Response) {
        await writeResponse(res, result)
        return
      }
      ;(req as ExpressRequest & { auth?: SdkAuthInfo }).auth = toSdkAuthInfo(result, {
        resourceMetadataUrl: rs.metadataUrl,
      })
      ;(res.locals as Partial<PortcullisLocals>).portcullis = { auth: result }
      next()
    }
    run().catch(next)
  }
}
