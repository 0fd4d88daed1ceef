/**
 * Client benchmark: how many HTTP requests the MCP authorization flow costs, counted at the
 * servers (our authorization server on a SQLite file and our resource server guarding an SDK v1
 * `McpServer`, both on 127.0.0.1), with the browser step played by a form-filling HTTP client.
 *
 * - `cold_flow_requests`: from the first 401 to the first authorized answer, Portcullis client as
 *   the `fetch` of the SDK v1 Streamable HTTP transport, nothing stored (browser pages included).
 * - `warm_start_requests`: a new client instance with the stored tokens, one `tools/call`.
 * - `concurrent_expired_refreshes`: token-endpoint requests for 100 concurrent calls once the
 *   access token has expired (the client's clock says so: proactive refresh).
 * - `concurrent_expired_refreshes_reactive`: the same when only the resource server knows (401s).
 * - `sdk_cold_flow_requests`: `cold_flow_requests` for the official SDK v1 client with its own
 *   `authProvider` (minimal in-memory provider; `transport.finishAuth(code)`, then reconnect).
 *
 * Prints one `name=value` line per figure on stdout; the requests of each cold flow on stderr.
 *
 * Run: npx tsx bench/client.ts
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import type { McpAuthClient } from '../src/client/flow.js'
import { createFileCredentialStore } from '../src/node/client/file-credential-store.js'
import { createNodeMcpAuthClient } from '../src/node/client/node-auth-client.js'
import { MCP_HEADERS, toolCall, toolText } from '../test/e2e/mcp-messages.js'
import { FormDrivingProvider } from '../test/e2e/sdk-provider.js'
import {
  automatedBrowserRedirect,
  coldFlow,
  isBrowserRequest,
  type RecordedRequest,
  type Stack,
  startStack,
} from '../test/e2e/stack.js'

const HOUR = 3_600_000
const CONCURRENT = 100

function show(name: string, requests: readonly RecordedRequest[]): void {
  process.stderr.write(`${name}:\n`)
  for (const r of requests) {
    const tag = isBrowserRequest(r) ? ' (browser)' : ''
    process.stderr.write(`  ${r.server} ${r.method} ${r.path} ${r.status}${tag}\n`)
  }
}

async function ourClient(credentials: string, clock?: () => number): Promise<McpAuthClient> {
  return createNodeMcpAuthClient({
    credentialStore: await createFileCredentialStore({ directory: credentials, keychain: false }),
    redirect: automatedBrowserRedirect(),
    allowInsecureLoopback: true,
    clientMetadata: { client_name: 'Portcullis bench' },
    ...(clock === undefined ? {} : { clock }),
  })
}

async function concurrentCalls(stack: Stack, auth: McpAuthClient): Promise<RecordedRequest[]> {
  const mark = stack.requests.length
  const responses = await Promise.all(
    Array.from({ length: CONCURRENT }, (_, i) =>
      auth.fetch(stack.mcpUrl, { method: 'POST', headers: MCP_HEADERS, body: toolCall('read_file', i) }),
    ),
  )
  await Promise.all(responses.map(toolText))
  if (responses.some((r) => r.status !== 200)) throw new Error('a concurrent call failed')
  return stack.requests.slice(mark)
}

async function portcullis(stack: Stack, credentials: string): Promise<Record<string, number>> {
  // Cold: nothing stored; the SDK v1 client connects and calls a tool.
  let mark = stack.requests.length
  const auth = await ourClient(credentials)
  const client = new Client({ name: 'portcullis-bench', version: '1.0.0' })
  await client.connect(new StreamableHTTPClientTransport(new URL(stack.mcpUrl), { fetch: auth.fetch }))
  await client.callTool({ name: 'read_file', arguments: { path: '/tmp/a.txt' } })
  await client.close()
  const cold = coldFlow(stack.requests.slice(mark))
  show('cold_flow', cold)

  // Warm: a new client instance over the same file store.
  mark = stack.requests.length
  const warm = await ourClient(credentials)
  const response = await warm.fetch(stack.mcpUrl, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: toolCall('read_file', 1),
  })
  await toolText(response)
  const warmRequests = stack.requests.slice(mark)
  show('warm_start', warmRequests)

  // Expired, known to the client: every call waits for one refresh.
  stack.clock.offsetMs += 2 * HOUR
  const proactive = await concurrentCalls(stack, await ourClient(credentials, () => stack.clock.now()))
  // Expired, known only to the servers: 401s, then one refresh.
  stack.clock.offsetMs += 2 * HOUR
  const reactive = await concurrentCalls(stack, await ourClient(credentials))

  const tokenRequests = (requests: RecordedRequest[]) => requests.filter((r) => r.path === '/token').length
  return {
    cold_flow_requests: cold.length,
    warm_start_requests: warmRequests.length,
    concurrent_expired_refreshes: tokenRequests(proactive),
    concurrent_expired_refreshes_reactive: tokenRequests(reactive),
  }
}

async function officialSdk(stack: Stack): Promise<number> {
  const mark = stack.requests.length
  const provider = new FormDrivingProvider()
  const url = new URL(stack.mcpUrl)
  const first = new StreamableHTTPClientTransport(url, { authProvider: provider })
  const client = new Client({ name: 'sdk-bench', version: '1.0.0' })
  try {
    await client.connect(first)
    throw new Error('the SDK client connected without authorization')
  } catch (error) {
    if (!(error instanceof UnauthorizedError)) throw error
  }
  if (provider.code === undefined) throw new Error('the SDK client did not complete the browser step')
  await first.finishAuth(provider.code)
  await client.connect(new StreamableHTTPClientTransport(url, { authProvider: provider }))
  await client.callTool({ name: 'read_file', arguments: { path: '/tmp/a.txt' } })
  await client.close()
  const cold = coldFlow(stack.requests.slice(mark))
  show('sdk_cold_flow', cold)
  return cold.length
}

const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-client-'))
try {
  const ours = await startStack({ directory: join(dir, 'ours') })
  let figures: Record<string, number>
  try {
    figures = await portcullis(ours, join(dir, 'ours', 'credentials'))
  } finally {
    await ours.close()
  }
  // A fresh pair of servers, so that the SDK client meets exactly the same cold state.
  const sdk = await startStack({ directory: join(dir, 'sdk') })
  try {
    figures['sdk_cold_flow_requests'] = await officialSdk(sdk)
  } finally {
    await sdk.close()
  }
  for (const [name, value] of Object.entries(figures)) process.stdout.write(`${name}=${value}\n`)
} finally {
  await rm(dir, { recursive: true, force: true })
}
