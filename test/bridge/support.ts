/**
 * The bridge's test bench: `serve` in this process (so that the authorization server's audit
 * events can be counted), and `portcullis bridge` child processes driven by the official SDK's
 * stdio client, with the browser step automated.
 */
import { mkdtempSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js'
import { localAccounts } from '../../src/authorization-server/accounts/local-accounts.js'
import {
  createDemoMcpHandler,
  createNotesBook,
  DEMO_SCOPES,
  demoProtectedResource,
} from '../../src/cli/serve/demo-mcp-server.js'
import type { Logger } from '../../src/cli/serve/logger.js'
import { type ServeRuntime, startServe } from '../../src/cli/serve/start-serve.js'
import { createNodeAuthorizationServer } from '../../src/node/authorization-server.js'
import { createMemoryStore } from '../../src/storage/memory.js'
import { completeLogin } from '../cli/support/form-browser.js'
import { CLI_ENTRY, REPO_ROOT } from '../cli/support/run-cli.js'

export interface AuditRecord {
  type: string
  grant_type?: string
  scopes?: string[]
}

export interface Serve {
  runtime: ServeRuntime
  audit: AuditRecord[]
  /** Audit events of `type` (and `grant_type`) since the start. */
  count(type: string, grantType?: string): number
}

/** `serve` on 127.0.0.1 with a random port, in a fresh data directory. */
export async function startTestServe(root: string): Promise<Serve> {
  const audit: AuditRecord[] = []
  const logger: Logger = {
    log(_level, event, fields = {}) {
      if (event === 'audit') audit.push(fields as unknown as AuditRecord)
    },
  }
  const runtime = await startServe(
    { port: 0, host: '127.0.0.1', dataDir: join(root, 'data'), logFormat: 'text' },
    logger,
  )
  return {
    runtime,
    audit,
    count: (type, grantType) =>
      audit.filter(
        (event) => event.type === type && (grantType === undefined || event.grant_type === grantType),
      ).length,
  }
}

export function tempRoot(): string {
  return mkdtempSync(join(tmpdir(), 'portcullis-bridge-'))
}

/** A bridge process with an SDK client on its stdio. */
export interface BridgeSession {
  client: Client
  transport: StdioClientTransport
  stderr: () => string
  /** Authorization URLs this bridge printed and the bench logged in at. */
  logins: () => number
  /** Failures of the automated browser step. */
  loginErrors: Error[]
  /** Errors the SDK client saw on the stdio channel (a non-JSON-RPC line on stdout is one). */
  channelErrors: Error[]
  close(): Promise<void>
}

export interface BridgeLaunch {
  url: string
  args?: string[]
  env?: Record<string, string>
  /** Demo account to log in with when the bridge prints a login URL. */
  account?: { username: string; password: string }
}

/** Spawns `portcullis bridge <url>` under the SDK's `StdioClientTransport` and connects a client. */
export function launchBridge(launch: BridgeLaunch): { session: BridgeSession; connected: Promise<void> } {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', CLI_ENTRY, 'bridge', launch.url, ...(launch.args ?? [])],
    cwd: REPO_ROOT,
    env: {
      ...(process.env as Record<string, string>),
      NO_COLOR: '1',
      FORCE_COLOR: '0',
      ...launch.env,
    },
    stderr: 'pipe',
  })
  let stderr = ''
  const loginErrors: Error[] = []
  const stderrStream = transport.stderr as Readable | null
  stderrStream?.setEncoding('utf8')
  const driven = new Set<string>()
  stderrStream?.on('data', (chunk: string) => {
    stderr += chunk
    if (launch.account === undefined) return
    for (const [, url] of stderr.matchAll(/Open this URL in a browser to log in:\n(\S+)\n/g)) {
      if (driven.has(url!)) continue
      driven.add(url!)
      completeLogin(url!, launch.account.username, launch.account.password).catch((error: unknown) =>
        loginErrors.push(error as Error),
      )
    }
  })
  const channelErrors: Error[] = []
  const client = new Client({ name: 'bridge-test-host', version: '1' })
  client.onerror = (error) => channelErrors.push(error)
  const connected = client.connect(transport)
  return {
    connected,
    session: {
      client,
      transport,
      stderr: () => stderr,
      logins: () => driven.size,
      loginErrors,
      channelErrors,
      close: () => client.close(),
    },
  }
}

/** Flags that keep the bridge's credentials in `directory`, with the key in a file and no browser. */
export function credentialFlags(directory: string): string[] {
  return ['--no-browser', '--no-keychain', '--credentials-dir', directory]
}

/** A machine client of {@link startClientCredentialsDeployment}. */
export const MACHINE_CLIENT = { client_id: 'bridge-bot', client_secret: 'bridge-bot-secret-0123456789abcdef' }

/**
 * The demo MCP server behind an authorization server that knows one confidential client for the
 * client credentials grant (no users): the subject of the headless bridge test.
 */
export async function startClientCredentialsDeployment(): Promise<{
  issuer: string
  mcpUrl: string
  audit: AuditRecord[]
  close(): Promise<void>
}> {
  const audit: AuditRecord[] = []
  let handler: (req: IncomingMessage, res: ServerResponse) => Promise<void> = async (_req, res) => {
    res.writeHead(503).end()
  }
  const server = createServer((req, res) => {
    handler(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}`
  const mcpUrl = `${issuer}/mcp`
  const store = await createMemoryStore()
  const as = createNodeAuthorizationServer({
    issuer,
    store,
    resources: [{ uri: mcpUrl, scopes: { ...DEMO_SCOPES }, defaultScopes: ['notes:read'] }],
    login: localAccounts({ users: [] }),
    cookieSecret: 'a-cookie-secret-of-at-least-thirty-two-characters',
    clients: [
      {
        ...MACHINE_CLIENT,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
        scope: 'notes:read notes:write',
      },
    ],
    onAudit: (event) => void audit.push(event as unknown as AuditRecord),
  })
  await as.ready()
  const rs = demoProtectedResource(as, issuer, mcpUrl)
  const mcp = createDemoMcpHandler({
    rs,
    notes: createNotesBook(),
    allowedHosts: [`127.0.0.1:${port}`],
    allowedOrigins: [issuer],
  })
  handler = async (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (path === '/mcp' || path?.startsWith('/.well-known/oauth-protected-resource')) return mcp(req, res)
    return as.listener(req, res)
  }
  return {
    issuer,
    mcpUrl,
    audit,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await store.close()
    },
  }
}
