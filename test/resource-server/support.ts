/**
 * Test support for the resource server: an ES256 signer, loopback JSON servers, and a small MCP
 * client over `fetch`. Everything listens on 127.0.0.1 only.
 */

import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { exportJWK, generateKeyPair, type JSONWebKeySet, type JWK, type JWTPayload, SignJWT } from 'jose'

export const ISSUER = 'https://as.example.com'

export interface Signer {
  kid: string
  jwk: JWK
  jwks: JSONWebKeySet
  privateKey: CryptoKey
  publicKey: CryptoKey
  /** Signs an RFC 9068 access token; `claims` override the defaults, `null` removes a claim. */
  sign(claims: Record<string, unknown>, header?: Record<string, unknown>): Promise<string>
}

export async function createSigner(kid = 'key-1'): Promise<Signer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' }
  return {
    kid,
    jwk,
    jwks: { keys: [jwk] },
    privateKey,
    publicKey,
    async sign(claims, header = {}) {
      const now = Math.floor(Date.now() / 1000)
      const payload: Record<string, unknown> = {
        iss: ISSUER,
        sub: 'alice',
        client_id: 'client-1',
        scope: 'files:read',
        iat: now,
        exp: now + 600,
        jti: crypto.randomUUID(),
      }
      for (const [name, value] of Object.entries(claims)) {
        if (value === null) delete payload[name]
        else payload[name] = value
      }
      return new SignJWT(payload as JWTPayload)
        .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid, ...header })
        .sign(privateKey)
    },
  }
}

export interface JsonServer {
  origin: string
  /** Requests received, per path. */
  hits: Map<string, number>
  /** Last request bodies and headers, per path. */
  last: Map<string, { body: string; headers: IncomingMessage['headers'] }>
  close(): Promise<void>
}

type Route = (
  body: string,
  req: IncomingMessage,
) => { status?: number; json: unknown } | Promise<{ status?: number; json: unknown }>

/** A loopback HTTP server answering JSON per path; `routes` may be changed while it runs. */
export async function startJsonServer(routes: Map<string, Route>): Promise<JsonServer> {
  const hits = new Map<string, number>()
  const last = new Map<string, { body: string; headers: IncomingMessage['headers'] }>()
  const server: Server = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname
    hits.set(path, (hits.get(path) ?? 0) + 1)
    let body = ''
    for await (const chunk of req) body += String(chunk)
    last.set(path, { body, headers: req.headers })
    const route = routes.get(path)
    if (route === undefined) {
      res.writeHead(404).end()
      return
    }
    const { status = 200, json } = await route(body, req)
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(json))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    origin: `http://127.0.0.1:${port}`,
    hits,
    last,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Headers of an MCP POST. */
export function mcpHeaders(token?: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    'mcp-protocol-version': '2025-11-25',
    ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
  }
}

/** A `tools/call` JSON-RPC request. */
export function toolCall(name: string, id = 1, args: Record<string, unknown> = { path: '/tmp/a.txt' }) {
  return { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }
}

/** The JSON-RPC messages of a response body, plain JSON or SSE. */
export async function readMessages(response: Response): Promise<unknown[]> {
  const text = await response.text()
  if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
    return text
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => JSON.parse(line.slice(5)))
  }
  const json = JSON.parse(text)
  return Array.isArray(json) ? json : [json]
}
