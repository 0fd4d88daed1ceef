/**
 * End to end over real loopback HTTP: our client (`createNodeMcpAuthClient`, as the `fetch` of the
 * official SDK v1 `StreamableHTTPClientTransport`) against our authorization server (SQLite file)
 * and our resource server guarding an SDK v1 `McpServer`. Every request either server receives is
 * counted. The cases run in order and share one credential store, as one user's machine would.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { McpAuthClient } from '../../src/client/flow.js'
import { createFileCredentialStore } from '../../src/node/client/file-credential-store.js'
import { createNodeMcpAuthClient } from '../../src/node/client/node-auth-client.js'
import { MCP_HEADERS, toolCall, toolText } from './mcp-messages.js'
import { FormDrivingProvider } from './sdk-provider.js'
import { automatedBrowserRedirect, coldFlow, isBrowserRequest, type Stack, startStack } from './stack.js'

const run = promisify(execFile)
const HOUR = 3_600_000

let dir: string
let credentials: string
let stack: Stack

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-e2e-'))
  credentials = join(dir, 'credentials')
  stack = await startStack({ directory: dir })
})

afterAll(async () => {
  await stack?.close()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

async function newClient(options: { clock?: () => number } = {}) {
  const redirect = automatedBrowserRedirect()
  const events: string[] = []
  const auth = createNodeMcpAuthClient({
    credentialStore: await createFileCredentialStore({ directory: credentials, keychain: false }),
    redirect,
    allowInsecureLoopback: true,
    clientMetadata: { client_name: 'Portcullis e2e' },
    onEvent: (event) => {
      events.push(event.type)
    },
    ...(options.clock === undefined ? {} : { clock: options.clock }),
  })
  return { auth, redirect, events }
}

const line = (r: { server: string; method: string; path: string; status: number }) =>
  `${r.server} ${r.method} ${r.path} ${r.status}`

function callTool(auth: McpAuthClient, name: string, id: number): Promise<Response> {
  return auth.fetch(stack.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: toolCall(name, id) })
}

// Generous budgets: the machine running the suite may be busy; every wait below is still bounded.
describe('client against our authorization server and resource server', { timeout: 90_000 }, () => {
  it('(a) the first tools/call through the SDK v1 transport ends authorized, the browser step automated', async () => {
    const { auth, redirect, events } = await newClient()
    const mark = stack.requests.length
    const client = new Client({ name: 'portcullis-e2e', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { fetch: auth.fetch }))
    const result = await client.callTool({ name: 'read_file', arguments: { path: '/tmp/a.txt' } })
    await client.close()

    expect(result.content).toEqual([{ type: 'text', text: 'read /tmp/a.txt for user-ada' }])
    expect(redirect.opened).toHaveLength(1)
    expect(events).toEqual(['discovery', 'discovery', 'registration', 'browser', 'token'])
    // The whole flow as the servers saw it, from the first 401 to the first authorized answer.
    expect(coldFlow(stack.requests.slice(mark)).map(line)).toEqual([
      'rs POST /mcp 401',
      'rs GET /.well-known/oauth-protected-resource/mcp 200',
      'as GET /.well-known/oauth-authorization-server 200',
      'as POST /register 201',
      'as GET /authorize 200',
      'as POST /interaction/login 200',
      'as POST /interaction/consent 303',
      'as POST /token 200',
      'rs POST /mcp 200',
    ])
    const status = await auth.status(stack.mcpUrl)
    expect(status).toMatchObject({
      loggedIn: true,
      issuer: stack.issuer,
      resource: stack.mcpUrl,
      refreshable: true,
    })
    expect(status.scope?.split(' ')).toContain('files:read')
    expect(status.scope?.split(' ')).not.toContain('files:write')

    // The file store holds ciphertext only: neither token appears in any of its files.
    const stored = await auth.token(stack.mcpUrl)
    expect(stored?.access_token).toMatch(/^eyJ/)
    const files = await readdir(credentials, { recursive: true, withFileTypes: true })
    const contents = await Promise.all(
      files.filter((f) => f.isFile()).map((f) => readFile(join(f.parentPath, f.name), 'utf8')),
    )
    expect(contents.length).toBeGreaterThan(0)
    for (const text of contents) {
      expect(text).not.toContain(stored!.access_token)
      expect(text).not.toContain('"refresh_token"')
    }
  })

  it('(b) a second process with the same encrypted file store makes exactly one request', async () => {
    const mark = stack.requests.length
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, 'fixtures', 'warm-child.ts'), credentials, stack.mcpUrl],
      { timeout: 60_000 },
    )
    expect(JSON.parse(stdout)).toEqual({ status: 200, text: 'read /tmp/child.txt for user-ada' })
    // No discovery, no registration, no token request: only the authorized MCP call.
    expect(stack.requests.slice(mark).map(line)).toEqual(['rs POST /mcp 200'])
  })

  it('(c) 100 concurrent calls with an access token the client knows expired: one refresh', async () => {
    stack.clock.offsetMs += 2 * HOUR
    const { auth, redirect, events } = await newClient({ clock: () => stack.clock.now() })
    const mark = stack.requests.length
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => callTool(auth, 'read_file', i)))
    const texts = await Promise.all(responses.map(toolText))

    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200))
    expect(new Set(texts)).toEqual(new Set(['read /tmp/a.txt for user-ada']))
    const seen = stack.requests.slice(mark)
    expect(seen.filter((r) => r.path === '/token').map(line)).toEqual(['as POST /token 200'])
    // Refreshed before sending (proactive): no request carried the expired token.
    expect(seen.filter((r) => r.server === 'rs').map(line)).toEqual(Array(100).fill('rs POST /mcp 200'))
    expect(seen).toHaveLength(101)
    expect(events).toEqual(['refresh'])
    expect(redirect.opened).toHaveLength(0)
  })

  it('(c) 100 concurrent calls whose token the resource server finds expired: one refresh', async () => {
    // The servers' time moves on; the client still believes its token is fresh and learns from 401s.
    stack.clock.offsetMs += 2 * HOUR
    const { auth, redirect, events } = await newClient()
    const mark = stack.requests.length
    const responses = await Promise.all(Array.from({ length: 100 }, (_, i) => callTool(auth, 'read_file', i)))
    await Promise.all(responses.map(toolText))

    expect(responses.map((r) => r.status)).toEqual(Array(100).fill(200))
    const seen = stack.requests.slice(mark)
    expect(seen.filter((r) => r.path === '/token').map(line)).toEqual(['as POST /token 200'])
    // Calls whose token was read after the refresh landed skip the 401; every call ends in a 200.
    const refused = seen.filter((r) => r.server === 'rs' && r.status === 401).length
    expect(refused).toBeGreaterThan(0)
    expect(seen.filter((r) => r.server === 'rs' && r.status === 200)).toHaveLength(100)
    expect(seen).toHaveLength(101 + refused)
    expect(events).toEqual(['refresh'])
    expect(redirect.opened).toHaveLength(0)
  })

  it('(d) step-up: a tool needing more scope gets 403, the client re-authorizes with the union, then succeeds', async () => {
    const { auth, redirect, events } = await newClient()
    const mark = stack.requests.length
    const response = await callTool(auth, 'delete_file', 1)

    expect(response.status).toBe(200)
    expect(await toolText(response)).toBe('deleted /tmp/a.txt for user-ada')
    expect(redirect.opened).toHaveLength(1)
    const authorizeUrl = new URL(redirect.opened[0]!)
    expect(authorizeUrl.searchParams.get('scope')?.split(' ').sort()).toEqual(['files:read', 'files:write'])
    expect(authorizeUrl.searchParams.get('resource')).toBe(stack.mcpUrl)
    expect(events).toEqual(['step-up', 'browser', 'token'])
    expect(stack.requests.slice(mark).map(line)).toEqual([
      'rs POST /mcp 403',
      'as GET /authorize 200',
      'as POST /interaction/login 200',
      'as POST /interaction/consent 303',
      'as POST /token 200',
      'rs POST /mcp 200',
    ])
    const status = await auth.status(stack.mcpUrl)
    expect(status.scope?.split(' ')).toEqual(expect.arrayContaining(['files:read', 'files:write']))

    // The stepped-up token serves both tools without another login.
    const read = await callTool(auth, 'read_file', 2)
    expect(read.status).toBe(200)
    expect(redirect.opened).toHaveLength(1)
  })
})

describe('the official SDK v1 client with its own authProvider, in the same scenario', {
  timeout: 90_000,
}, () => {
  it('completes the flow through redirectToAuthorization and finishAuth (the bench peer)', async () => {
    const mark = stack.requests.length
    const provider = new FormDrivingProvider()
    const url = new URL(stack.mcpUrl)
    const first = new StreamableHTTPClientTransport(url, { authProvider: provider })
    const client = new Client({ name: 'sdk-e2e', version: '1.0.0' })
    await expect(client.connect(first)).rejects.toBeInstanceOf(UnauthorizedError)
    expect(provider.code).toBeDefined()
    await first.finishAuth(provider.code!)
    await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
    const result = await client.callTool({ name: 'read_file', arguments: { path: '/tmp/sdk.txt' } })
    await client.close()

    expect(result.content).toEqual([{ type: 'text', text: 'read /tmp/sdk.txt for user-ada' }])
    const flow = coldFlow(stack.requests.slice(mark))
    expect(flow.filter((r) => r.path === '/register')).toHaveLength(1)
    expect(flow.filter((r) => r.path === '/token')).toHaveLength(1)
    expect(flow.filter(isBrowserRequest)).toHaveLength(3)
  })
})
