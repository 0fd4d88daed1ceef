/**
 * Our authorization server (SQLite file store) and our resource server guarding an official SDK v1
 * `McpServer`, each on its own loopback socket, with every HTTP request they receive recorded in
 * arrival order. Shared by the end-to-end tests and `bench/client.ts`.
 */
import { mkdir } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { JSONWebKeySet } from 'jose'
import { z } from 'zod'
import { scopePolicy } from '../../examples/sdk-v1-express/server.js'
import type { AuditEvent } from '../../src/authorization-server/audit.js'
import { localAccounts } from '../../src/authorization-server/index.js'
import type { RedirectHandler } from '../../src/client/redirect.js'
import {
  createNodeAuthorizationServer,
  type NodeAuthorizationServer,
} from '../../src/node/authorization-server.js'
import { createLoopbackRedirectHandler } from '../../src/node/client/redirect-handler.js'
import { jwtVerifier, nodeAuthenticate, protectedResource } from '../../src/node/resource-server.js'
import { base64url, randomBytes } from '../../src/protocol/random.js'
import { type SdkAuthInfo, toSdkAuthInfo } from '../../src/resource-server/auth-info.js'
import { createSqliteStore } from '../../src/storage/sql/sqlite.js'
import { completeLogin } from '../cli/support/form-browser.js'

export const USERNAME = 'ada'
export const PASSWORD = 'correct horse battery'
const COOKIE_SECRET = 'e2e-cookie-secret-0123456789abcdefghij'

/** One HTTP request as a server saw it. `status` is 0 until the response is finished. */
export interface RecordedRequest {
  server: 'as' | 'rs'
  method: string
  path: string
  status: number
}

/** A clock shared by the authorization server and the resource server; tests move it forward. */
export interface TestClock {
  offsetMs: number
  now(): number
}

/** The running servers. */
export interface Stack {
  issuer: string
  /** The MCP endpoint (also the resource identifier). */
  mcpUrl: string
  /** Every request received by either server, in arrival order. */
  requests: RecordedRequest[]
  clock: TestClock
  as: NodeAuthorizationServer
  audit: AuditEvent[]
  close(): Promise<void>
}

/** Options of {@link startStack}. */
export interface StackOptions {
  /** Where the SQLite database lives. */
  directory: string
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections()
    server.close(() => resolve())
  })
}

function record(requests: RecordedRequest[], server: 'as' | 'rs', req: IncomingMessage, res: ServerResponse) {
  const entry: RecordedRequest = {
    server,
    method: req.method ?? 'GET',
    path: new URL(req.url ?? '/', 'http://x').pathname,
    status: 0,
  }
  requests.push(entry)
  res.on('finish', () => {
    entry.status = res.statusCode
  })
}

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'portcullis-e2e', version: '1.0.0' })
  server.registerTool('read_file', { inputSchema: { path: z.string() } }, async ({ path }, extra) => ({
    content: [{ type: 'text', text: `read ${path} for ${String(extra.authInfo?.extra?.['subject'])}` }],
  }))
  server.registerTool('delete_file', { inputSchema: { path: z.string() } }, async ({ path }, extra) => ({
    content: [{ type: 'text', text: `deleted ${path} for ${String(extra.authInfo?.extra?.['subject'])}` }],
  }))
  return server
}

/**
 * Starts both servers on 127.0.0.1. The tools are those of `examples/sdk-v1-express`: `read_file`
 * needs `files:read`, `delete_file` needs `files:write`. The resource server checks tokens against
 * the authorization server's JWKS, read once in process before any request is counted.
 */
export async function startStack(options: StackOptions): Promise<Stack> {
  const requests: RecordedRequest[] = []
  const clock: TestClock = {
    offsetMs: 0,
    now() {
      return Date.now() + this.offsetMs
    },
  }
  const audit: AuditEvent[] = []

  let asHandler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end()
  }
  let rsHandler = asHandler
  const asHttp = createServer((req, res) => {
    record(requests, 'as', req, res)
    asHandler(req, res)
  })
  const rsHttp = createServer((req, res) => {
    record(requests, 'rs', req, res)
    rsHandler(req, res)
  })
  const issuer = `http://127.0.0.1:${await listen(asHttp)}`
  const rsOrigin = `http://127.0.0.1:${await listen(rsHttp)}`
  const mcpUrl = `${rsOrigin}/mcp`

  await mkdir(options.directory, { recursive: true })
  const store = await createSqliteStore({
    filename: join(options.directory, 'authorization-server.db'),
    encryptionKey: base64url(randomBytes(32)),
  })
  const as = createNodeAuthorizationServer({
    issuer,
    store,
    resources: [
      {
        uri: mcpUrl,
        name: 'Files',
        scopes: { 'files:read': 'Read files', 'files:write': 'Delete files' },
        defaultScopes: ['files:read'],
      },
    ],
    login: localAccounts({
      users: [{ username: USERNAME, password: PASSWORD, subject: 'user-ada' }],
      iterations: 1000,
    }),
    cookieSecret: COOKIE_SECRET,
    rememberConsent: false,
    clock: () => clock.now(),
    onAudit: (event) => {
      audit.push(event)
    },
  })
  await as.ready()
  const jwks = (await (await as.fetch(new Request(`${issuer}/jwks`))).json()) as JSONWebKeySet
  asHandler = (req, res) => void as.listener(req, res)

  const rs = protectedResource({
    resource: mcpUrl,
    authorizationServers: [issuer],
    allowInsecureResource: true,
    scopes: scopePolicy,
    now: () => clock.now(),
    verifier: jwtVerifier({ issuer, audience: mcpUrl, jwks, now: () => clock.now() }),
  })
  rsHandler = (req, res) => {
    void (async () => {
      const ok = await nodeAuthenticate(rs, req, res, { origin: rsOrigin })
      if (ok === undefined) return
      if (new URL(req.url ?? '/', rsOrigin).pathname !== '/mcp') {
        res.writeHead(404).end()
        return
      }
      // Stateless: one server and transport per request.
      const server = buildMcpServer()
      const transport = new StreamableHTTPServerTransport({})
      res.on('close', () => {
        void transport.close()
        void server.close()
      })
      await server.connect(transport)
      const withAuth = req as IncomingMessage & { auth?: SdkAuthInfo }
      withAuth.auth = toSdkAuthInfo(ok.auth, { resourceMetadataUrl: rs.metadataUrl })
      const body = ok.body.length > 0 ? (JSON.parse(ok.body.toString('utf8')) as unknown) : undefined
      await transport.handleRequest(withAuth as Parameters<typeof transport.handleRequest>[0], res, body)
    })().catch(() => {
      if (!res.headersSent) res.writeHead(500).end()
    })
  }

  return {
    issuer,
    mcpUrl,
    requests,
    clock,
    as,
    audit,
    async close() {
      await Promise.all([closeServer(asHttp), closeServer(rsHttp)])
      await store.close()
    },
  }
}

/** What a browser page of the authorization server is: the authorization request and the two forms. */
export function isBrowserRequest(entry: RecordedRequest): boolean {
  return entry.server === 'as' && (entry.path === '/authorize' || entry.path.startsWith('/interaction/'))
}

/**
 * The requests from the first `401` of the MCP endpoint to its first `2xx` answer, both
 * included: the whole cold authorization flow as the servers saw it.
 */
export function coldFlow(requests: readonly RecordedRequest[]): RecordedRequest[] {
  const isMcp = (r: RecordedRequest) => r.server === 'rs' && r.path === '/mcp'
  const first = requests.findIndex((r) => isMcp(r) && r.status === 401)
  if (first < 0) throw new Error('no 401 from the MCP endpoint')
  const last = requests.findIndex((r, i) => i > first && isMcp(r) && r.status >= 200 && r.status < 300)
  if (last < 0) throw new Error('no authorized answer from the MCP endpoint')
  return requests.slice(first, last + 1)
}

/**
 * The Node loopback redirect handler with the browser replaced by a form-filling HTTP client:
 * it opens the authorization URL, logs in, approves the consent and follows the redirect into the
 * loopback receiver, all over real HTTP on 127.0.0.1. `opened` counts the browser launches.
 */
export function automatedBrowserRedirect(): RedirectHandler & { opened: string[] } {
  const opened: string[] = []
  const handler = createLoopbackRedirectHandler({
    timeoutMs: 30_000,
    opener: async (url) => {
      opened.push(url)
      await completeLogin(url, USERNAME, PASSWORD)
    },
    onUrl: () => {},
  })
  return { start: () => handler.start(), opened }
}
