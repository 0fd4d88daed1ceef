/**
 * Node defaults for the authorization server: Client ID Metadata Documents and client `jwks_uri`
 * fetched through the SSRF-safe fetch, the socket's address for per-address rate limits, and a
 * `node:http` request listener.
 *
 * @module
 */
import { createHash } from 'node:crypto'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { CIMD_MAX_BYTES } from '../authorization-server/clients/cimd.js'
import type { AuthorizationServerOptions, CimdOptions } from '../authorization-server/options.js'
import { type AuthorizationServer, createAuthorizationServer } from '../authorization-server/server.js'
import { type CreateRequestOptions, createRequest, writeResponse } from './adapters/node-http.js'
import { createSafeFetch, type SafeFetchOptions } from './safe-fetch/safe-fetch.js'

/** Options of {@link createNodeAuthorizationServer}. */
export interface NodeAuthorizationServerOptions extends Omit<AuthorizationServerOptions, 'cimd' | 'fetch'> {
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

/** SHA-256 base64url with `node:crypto`: the same output as Web Crypto, without a thread-pool hop. */
export function sha256Sync(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url')
}

// Bodies the server accepts are small (forms, registration JSON); anything larger is refused anyway.
const MAX_BUFFERED_BODY = 64 * 1024

/** Reads a small declared body into memory, which is cheaper than a web stream; others stream. */
async function bufferedBody(req: IncomingMessage): Promise<Pick<CreateRequestOptions, 'body'>> {
  if (req.method === 'GET' || req.method === 'HEAD') return {}
  const declared = Number(req.headers['content-length'])
  if (!Number.isSafeInteger(declared) || declared > MAX_BUFFERED_BODY) return {}
  if (declared === 0) return { body: null }
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  return { body: Buffer.concat(chunks) as unknown as BodyInit }
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
  const { cimd, fetch, safeFetch, getClientAddress, ...rest } = options
  const timeoutMs = cimd === false || cimd === undefined ? 5000 : (cimd.timeoutMs ?? 5000)
  const portable: AuthorizationServerOptions = {
    ...rest,
    fetch:
      fetch ??
      createSafeFetch({
        maxRedirects: 0,
        maxBodyBytes: 64 * 1024,
        timeoutMs: 5000,
        expectJson: true,
        ...safeFetch,
      }),
    getClientAddress: (request) => addresses.get(request) ?? getClientAddress?.(request),
    sha256: rest.sha256 ?? sha256Sync,
  }
  if (cimd !== false) {
    portable.cimd = {
      ...cimd,
      fetch:
        cimd?.fetch ??
        createSafeFetch({
          maxBodyBytes: CIMD_MAX_BYTES,
          timeoutMs,
          maxRedirects: 0,
          expectJson: true,
          ...safeFetch,
        }),
    }
  }
  const server = createAuthorizationServer(portable)
  const origin = new URL(options.issuer).origin
  return {
    ...server,
    async listener(req, res) {
      let response: Response
      try {
        const request = createRequest(req, { origin, ...(await bufferedBody(req)) })
        if (req.socket.remoteAddress !== undefined) addresses.set(request, req.socket.remoteAddress)
        response = await server.fetch(request)
      } catch {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' })
          res.end('Internal Server Error')
        }
        return
      }
      await writeResponse(res, response)
    },
  }
}
