/**
 * `portcullis serve` without the command line: the authorization server and the demo MCP server
 * in one process on one port (the AS at the issuer's paths, the MCP endpoint at `/mcp`, a health
 * endpoint at `/healthz`), on SQLite in the data directory or on Postgres.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { localAccounts } from '../../authorization-server/accounts/local-accounts.js'
import {
  createNodeAuthorizationServer,
  type NodeAuthorizationServer,
} from '../../node/authorization-server.js'
import { createNodeOAuthProxy } from '../../node/proxy.js'
import type { Store } from '../../storage/types.js'
import { CliError } from '../errors.js'
import type { ServeConfig } from './config.js'
import {
  type DemoAccount,
  ensureDataDir,
  readOrCreateDemoAccount,
  readOrCreateSecrets,
  type ServeSecrets,
} from './data-dir.js'
import {
  createDemoMcpHandler,
  createNotesBook,
  DEMO_SCOPES,
  demoProtectedResource,
} from './demo-mcp-server.js'
import type { Logger } from './logger.js'
import { upstreamFromConfig } from './upstream.js'

/** A running `serve`. */
export interface ServeRuntime {
  issuer: string
  mcpUrl: string
  healthUrl: string
  /** The demo account (local logins only); `created` is true on the first start of this data directory. */
  account?: DemoAccount & { created: boolean }
  /** Proxy mode: the provider's name and the redirect URI to register there. */
  upstream?: { name: string; callbackUrl: string }
  storeKind: 'sqlite' | 'postgres'
  dataDir: string
  /** Stops accepting connections, lets requests in flight finish (up to `graceMs`), closes the store. */
  close(graceMs?: number): Promise<void>
}

/** The store of a `serve` configuration: Postgres when `--postgres` is given, else SQLite in the data directory. */
export async function openServeStore(
  config: Pick<ServeConfig, 'postgres'>,
  dataDir: string,
  secrets: ServeSecrets,
): Promise<{ store: Store; kind: 'sqlite' | 'postgres' }> {
  try {
    if (config.postgres !== undefined) {
      const { createPostgresStore } = await import('../../storage/sql/postgres.js')
      return {
        store: await createPostgresStore({
          connectionString: config.postgres,
          encryptionKey: secrets.encryptionKey,
        }),
        kind: 'postgres',
      }
    }
    const { createSqliteStore } = await import('../../storage/sql/sqlite.js')
    return {
      store: await createSqliteStore({
        filename: join(dataDir, 'portcullis.db'),
        encryptionKey: secrets.encryptionKey,
      }),
      kind: 'sqlite',
    }
  } catch (error) {
    throw new CliError(
      'ERR_RUNTIME',
      `cannot open the ${config.postgres === undefined ? 'SQLite' : 'Postgres'} store: ${(error as Error).message}`,
      {
        fix:
          config.postgres === undefined
            ? `Check that ${dataDir} is writable and not used by an incompatible version.`
            : 'Check the connection string, and that the database accepts connections from this machine.',
        cause: error,
      },
    )
  }
}

/**
 * The secrets: `PORTCULLIS_ENCRYPTION_KEY` and `PORTCULLIS_COOKIE_SECRET` when set (replicas on
 * one Postgres database must share them), else the data directory's `secrets.json`.
 */
export async function serveSecrets(
  dataDir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ServeSecrets> {
  const fromFile = await readOrCreateSecrets(dataDir)
  return {
    encryptionKey: env['PORTCULLIS_ENCRYPTION_KEY'] ?? fromFile.encryptionKey,
    cookieSecret: env['PORTCULLIS_COOKIE_SECRET'] ?? fromFile.cookieSecret,
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]'])

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      reject(
        new CliError('ERR_RUNTIME', `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, {
          fix:
            error.code === 'EADDRINUSE'
              ? `Another program uses port ${port}; pass --port with a free one (or --port 0).`
              : 'Check --host and --port.',
        }),
      )
    }
    server.once('error', onError)
    server.listen(port, host, () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    })
  })
}

/**
 * Starts `serve`: opens the data directory and the store, listens, then builds the authorization
 * server and the protected demo MCP server for the URLs it now knows.
 *
 * @throws {CliError} for an unusable configuration, data directory, store or port
 */
export async function startServe(config: ServeConfig, logger: Logger): Promise<ServeRuntime> {
  const upstream = config.upstream === undefined ? undefined : upstreamFromConfig(config.upstream)
  if (config.issuer === undefined && WILDCARD_HOSTS.has(config.host)) {
    throw new CliError(
      'ERR_USAGE',
      `--host ${config.host} listens on every interface, so the public URL cannot be guessed`,
      {
        fix: 'Pass --issuer with the https URL clients reach this server at, e.g. --issuer https://auth.example.com',
      },
    )
  }
  const dataDir = ensureDataDir(config.dataDir)
  const secrets = await serveSecrets(dataDir)
  const account = upstream === undefined ? await readOrCreateDemoAccount(dataDir) : undefined
  const { store, kind } = await openServeStore(config, dataDir, secrets)

  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => {
    res.writeHead(503).end()
  }
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      logger.log('error', 'request.failed', {
        path: req.url?.split('?')[0],
        message: (error as Error).message,
      })
      if (!res.headersSent)
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end('Internal Server Error')
      else res.destroy()
    })
  })
  let port: number
  try {
    port = await listen(server, config.port, config.host)
  } catch (error) {
    await store.close()
    throw error
  }

  const issuer = config.issuer ?? `http://${hostForUrl(config.host)}:${port}`
  const issuerUrl = new URL(issuer)
  const basePath = issuerUrl.pathname.replace(/\/$/, '')
  const mcpUrl = `${issuerUrl.origin}${basePath}/mcp`
  const healthUrl = `${issuerUrl.origin}/healthz`

  let as: NodeAuthorizationServer
  let callbackUrl: string | undefined
  try {
    const common = {
      issuer,
      store,
      resources: [
        {
          uri: mcpUrl,
          name: 'Portcullis demo notes',
          scopes: { ...DEMO_SCOPES },
          defaultScopes: ['notes:read'],
        },
      ],
      cookieSecret: secrets.cookieSecret,
      onAudit: (event: object) => logger.log('info', 'audit', { ...event }),
    }
    if (upstream !== undefined) {
      const proxy = createNodeOAuthProxy({ ...common, upstream })
      callbackUrl = proxy.callbackUrl
      as = proxy
    } else {
      const users =
        account === undefined ? [] : [{ username: account.username, passwordHash: account.passwordHash }]
      as = createNodeAuthorizationServer({ ...common, login: localAccounts({ users }) })
    }
    await as.ready()
  } catch (error) {
    server.close()
    await store.close()
    throw new CliError('ERR_CONFIG', `cannot start the authorization server: ${(error as Error).message}`, {
      fix: 'Check --issuer: an https URL without query or fragment (http only on 127.0.0.1, [::1] or localhost).',
      cause: error,
    })
  }

  const rs = demoProtectedResource(as, issuer, mcpUrl, {
    resourceName: 'Portcullis demo notes',
    serveRootMetadata: true,
    onReject: (event) =>
      logger.log(event.status >= 500 ? 'error' : 'info', 'mcp.rejected', {
        status: event.status,
        reason: event.reason,
        code: event.error?.code,
        required_scopes: event.requiredScopes,
      }),
  })
  const bindHost = `${hostForUrl(config.host)}:${port}`
  const mcp = createDemoMcpHandler({
    rs,
    notes: createNotesBook(),
    allowedHosts: [...new Set([issuerUrl.host, bindHost, `localhost:${port}`])],
    allowedOrigins: [issuerUrl.origin],
  })
  const mcpPath = new URL(mcpUrl).pathname

  handler = async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/healthz') return health(store, kind, res)
    if (path === mcpPath || path?.startsWith('/.well-known/oauth-protected-resource')) return mcp(req, res)
    return as.listener(req, res)
  }

  const sweep = setInterval(() => {
    store
      .sweep(Date.now())
      .catch((error: unknown) =>
        logger.log('warn', 'store.sweep_failed', { message: (error as Error).message }),
      )
  }, 10 * 60_000)
  sweep.unref()

  let closing: Promise<void> | undefined
  return {
    issuer,
    mcpUrl,
    healthUrl,
    ...(account === undefined ? {} : { account }),
    ...(upstream === undefined || callbackUrl === undefined
      ? {}
      : { upstream: { name: upstream.name, callbackUrl } }),
    storeKind: kind,
    dataDir,
    close(graceMs = 5000) {
      closing ??= (async () => {
        clearInterval(sweep)
        const closed = new Promise<void>((resolve) => server.close(() => resolve()))
        server.closeIdleConnections()
        const force = setTimeout(() => server.closeAllConnections(), graceMs)
        await closed
        clearTimeout(force)
        await store.close()
      })()
      return closing
    },
  }
}

async function health(store: Store, kind: 'sqlite' | 'postgres', res: ServerResponse): Promise<void> {
  let ok = true
  try {
    await store.signingKeys.list()
  } catch {
    ok = false
  }
  res.writeHead(ok ? 200 : 503, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify({ status: ok ? 'ok' : 'unavailable', store: { kind, ok } }))
}
