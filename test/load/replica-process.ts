/**
 * One replica, run as a child process by `replicas.ts`: an authorization server on Postgres or
 * SQLite, or the demo MCP server behind Portcullis's resource server. The configuration comes as
 * JSON in `PORTCULLIS_REPLICA`; the process prints `ready <port>` once it listens, and answers the
 * IPC message `heap` with its heap size after a full garbage collection (run it with `--expose-gc`).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { localAccounts } from '../../src/authorization-server/accounts/local-accounts.js'
import {
  createDemoMcpHandler,
  createNotesBook,
  DEMO_SCOPE_POLICY,
  DEMO_SCOPES,
} from '../../src/cli/serve/demo-mcp-server.js'
import { createNodeAuthorizationServer } from '../../src/node/authorization-server.js'
import { jwtVerifier, protectedResource } from '../../src/node/resource-server.js'
import type { FetchLike } from '../../src/resource-server/fetch-json.js'
import type { Store } from '../../src/storage/types.js'

/** Configuration of an authorization-server replica. */
export interface AuthorizationServerReplicaConfig {
  role: 'as'
  port: number
  issuer: string
  /** The MCP endpoint tokens are issued for. */
  resource: string
  store: { kind: 'postgres'; url: string } | { kind: 'sqlite'; filename: string }
  encryptionKey: string
  cookieSecret: string
  /** The one local account. */
  username: string
  password: string
  /** PBKDF2 iterations of the local account (low for load runs, so they measure the server). */
  iterations: number
  refreshGraceMs: number
}

/** Configuration of the resource-server replica. */
export interface ResourceServerReplicaConfig {
  role: 'rs'
  port: number
  issuer: string
  resource: string
  /** Where the authorization servers listen: metadata and JWKS fetches for the issuer go to them in turn. */
  authorizationServers: string[]
}

export type ReplicaConfig = AuthorizationServerReplicaConfig | ResourceServerReplicaConfig

type Listener = (req: IncomingMessage, res: ServerResponse) => Promise<void>

async function openStore(config: AuthorizationServerReplicaConfig): Promise<Store> {
  const common = { encryptionKey: config.encryptionKey, refreshGraceMs: config.refreshGraceMs }
  if (config.store.kind === 'postgres') {
    const { createPostgresStore } = await import('../../src/storage/sql/postgres.js')
    return createPostgresStore({ connectionString: config.store.url, ...common })
  }
  const { createSqliteStore } = await import('../../src/storage/sql/sqlite.js')
  return createSqliteStore({ filename: config.store.filename, ...common })
}

async function authorizationServer(config: AuthorizationServerReplicaConfig): Promise<Listener> {
  const store = await openStore(config)
  const as = createNodeAuthorizationServer({
    issuer: config.issuer,
    store,
    resources: [
      { uri: config.resource, name: 'Notes', scopes: { ...DEMO_SCOPES }, defaultScopes: ['notes:read'] },
    ],
    login: localAccounts({
      users: [{ username: config.username, password: config.password, subject: `user-${config.username}` }],
      iterations: config.iterations,
    }),
    cookieSecret: config.cookieSecret,
    // Every simulated client comes from 127.0.0.1: a per-address limit would measure the limit.
    registration: { mode: 'open', rateLimit: false },
    cimd: false,
    // Nothing here may leave the machine: a fuzzed `jwks_uri` is refused before any lookup.
    fetch: async () => {
      throw new TypeError('outbound fetches are disabled in this replica')
    },
    onAudit: () => {},
  })
  await as.ready()
  return as.listener
}

/** A fetch for the issuer's URLs that sends each request to the next authorization server that answers. */
function failoverFetch(issuer: string, servers: string[]): FetchLike {
  const origin = new URL(issuer).origin
  let next = 0
  return async (input, init) => {
    const url = new URL(input instanceof Request ? input.url : input)
    if (url.origin !== origin) throw new TypeError('only the issuer is fetched')
    let failure: unknown
    for (let i = 0; i < servers.length; i++) {
      const target = new URL(url.pathname + url.search, servers[next++ % servers.length])
      try {
        return await fetch(target, init)
      } catch (error) {
        failure = error
      }
    }
    throw failure
  }
}

function resourceServer(config: ResourceServerReplicaConfig): Listener {
  const rs = protectedResource({
    resource: config.resource,
    authorizationServers: [config.issuer],
    verifier: jwtVerifier({
      issuer: config.issuer,
      audience: config.resource,
      fetch: failoverFetch(config.issuer, config.authorizationServers),
    }),
    scopes: DEMO_SCOPE_POLICY,
    resourceName: 'Notes',
  })
  const origin = new URL(config.resource).origin
  return createDemoMcpHandler({
    rs,
    notes: createNotesBook(),
    allowedHosts: [new URL(config.resource).host],
    allowedOrigins: [origin],
  })
}

async function main(): Promise<void> {
  const config = JSON.parse(process.env['PORTCULLIS_REPLICA'] ?? '') as ReplicaConfig
  const listener = config.role === 'as' ? await authorizationServer(config) : resourceServer(config)
  const server = createServer((req, res) => {
    listener(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error')
      else res.destroy()
    })
  })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(config.port, '127.0.0.1', () => resolve())
  })
  process.on('message', (message) => {
    if (message !== 'heap') return
    ;(globalThis as { gc?: () => void }).gc?.()
    process.send?.({ heap: process.memoryUsage().heapUsed })
  })
  process.stdout.write(`ready ${config.port}\n`)
}

main().catch((error: unknown) => {
  process.stderr.write(`replica failed to start: ${(error as Error).message}\n`)
  process.exit(1)
})
