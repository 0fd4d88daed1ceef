import { PassThrough } from 'node:stream'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { ReadBuffer, serializeMessage } from '@modelcontextprotocol/sdk/shared/stdio.js'
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js'
import {
  type JSONRPCMessage,
  LATEST_PROTOCOL_VERSION,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
} from '@modelcontextprotocol/sdk/types.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createStaticTokenFetch } from '../../src/bridge/static-token-fetch.js'
import { createStdioBridge, type StdioBridge } from '../../src/bridge/stdio-bridge.js'
import { type RemoteServer, startRemoteServer } from './remote-server.js'

/** The host's side of the bridge's stdio: what an MCP host would write and read. */
class HostTransport implements Transport {
  onmessage?: (message: JSONRPCMessage) => void
  onclose?: () => void
  onerror?: (error: Error) => void
  /** Every line the bridge wrote to its stdout. */
  readonly lines: string[] = []
  private readonly buffer = new ReadBuffer()
  private pending = ''

  constructor(
    private readonly fromBridge: PassThrough,
    private readonly toBridge: PassThrough,
  ) {}

  async start(): Promise<void> {
    this.fromBridge.on('data', (chunk: Buffer) => {
      this.pending += chunk.toString('utf8')
      const parts = this.pending.split('\n')
      this.pending = parts.pop() ?? ''
      this.lines.push(...parts)
      this.buffer.append(chunk)
      for (;;) {
        let message: JSONRPCMessage | null
        try {
          message = this.buffer.readMessage()
        } catch (error) {
          this.onerror?.(error as Error)
          continue
        }
        if (message === null) break
        this.onmessage?.(message)
      }
    })
  }

  async send(message: JSONRPCMessage): Promise<void> {
    this.toBridge.write(serializeMessage(message))
  }

  /** Writes a raw line to the bridge's stdin. */
  raw(line: string): void {
    this.toBridge.write(`${line}\n`)
  }

  async close(): Promise<void> {
    this.toBridge.end()
    this.onclose?.()
  }
}

let remote: RemoteServer
let stdin: PassThrough
let stdout: PassThrough
let bridge: StdioBridge
let host: HostTransport
let logs: string[]

function start(fetch?: typeof globalThis.fetch): void {
  stdin = new PassThrough()
  stdout = new PassThrough()
  logs = []
  bridge = createStdioBridge({
    url: remote.url,
    stdin,
    stdout,
    log: (message) => logs.push(message),
    ...(fetch === undefined ? {} : { fetch }),
  })
  host = new HostTransport(stdout, stdin)
}

async function connectedClient(): Promise<Client> {
  await bridge.start()
  const client = new Client({ name: 'host', version: '1' }, { capabilities: { roots: {} } })
  client.setRequestHandler(ListRootsRequestSchema, async () => ({
    roots: [{ uri: 'file:///work/project', name: 'project' }],
  }))
  await client.connect(host)
  return client
}

beforeEach(async () => {
  remote = await startRemoteServer()
})

afterEach(async () => {
  await bridge?.close()
  await remote.close()
})

describe('createStdioBridge', { timeout: 20_000 }, () => {
  it('forwards requests, responses, notifications and the server’s own requests both ways', async () => {
    start()
    const client = await connectedClient()
    const logged: unknown[] = []
    client.setNotificationHandler(LoggingMessageNotificationSchema, (notification) => {
      logged.push(notification.params.data)
    })

    const { tools } = await client.listTools()
    expect(tools.map((tool) => tool.name).sort()).toEqual(['ask_host', 'echo', 'log'])
    expect(await client.callTool({ name: 'echo', arguments: { text: 'héllo' } })).toMatchObject({
      content: [{ type: 'text', text: 'héllo' }],
    })
    // roots/list goes from the remote through the bridge to the host, and the answer back.
    expect(await client.callTool({ name: 'ask_host', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'file:///work/project' }],
    })
    expect(await client.callTool({ name: 'log', arguments: {} })).toMatchObject({
      content: [{ type: 'text', text: 'logged' }],
    })
    await expect.poll(() => [...logged].sort()).toEqual(['on the request stream', 'on the standalone stream'])
    expect(remote.seen.some((seen) => seen.method === 'GET')).toBe(true)

    // After initialize, every request carries the session and the negotiated protocol version.
    const calls = remote.seen.filter((seen) => seen.rpc.includes('tools/call'))
    expect(calls).toHaveLength(3)
    for (const call of calls) {
      expect(call.sessionId).toMatch(/^[0-9a-f-]{36}$/)
      expect(call.protocolVersion).toBe(LATEST_PROTOCOL_VERSION)
    }
    // Nothing but JSON-RPC on stdout.
    for (const line of host.lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' })
  })

  it('keeps the host’s ids exactly as they are', async () => {
    start()
    await bridge.start()
    await host.start()
    const answers: JSONRPCMessage[] = []
    host.onmessage = (message) => answers.push(message)
    host.raw(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 'init-ü-1',
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'raw', version: '1' },
        },
      }),
    )
    await expect.poll(() => answers.length).toBe(1)
    host.raw(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }))
    host.raw(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'tools/list' }))
    host.raw(JSON.stringify({ jsonrpc: '2.0', id: 9_007_199_254_740_991, method: 'ping' }))
    await expect.poll(() => answers.length).toBe(3)
    expect(answers.map((answer) => (answer as { id: unknown }).id).sort()).toEqual(
      [0, 9_007_199_254_740_991, 'init-ü-1'].sort(),
    )
    expect(answers[0]).toMatchObject({ id: 'init-ü-1', result: { protocolVersion: '2025-06-18' } })
    // The version the remote chose is the header of what follows.
    expect(remote.seen.find((seen) => seen.rpc.includes('tools/list'))?.protocolVersion).toBe('2025-06-18')
  })

  it('starts a new remote session when the remote forgets the old one, invisibly to the host', async () => {
    start()
    const client = await connectedClient()
    await client.callTool({ name: 'echo', arguments: { text: 'one' } })
    const firstSession = remote.seen.find((seen) => seen.sessionId !== undefined)?.sessionId
    remote.forgetSessions()

    expect(await client.callTool({ name: 'echo', arguments: { text: 'two' } })).toMatchObject({
      content: [{ type: 'text', text: 'two' }],
    })
    const initializes = remote.seen.filter((seen) => seen.rpc.includes('initialize'))
    expect(initializes).toHaveLength(2)
    const last = remote.seen.at(-1)!
    expect(last.rpc).toEqual(['tools/call'])
    expect(last.sessionId).toBeDefined()
    expect(last.sessionId).not.toBe(firstSession)
    expect(logs).toContain('the remote ended the session; starting a new one')
    // The bridge's own initialize never reached the host.
    for (const line of host.lines) expect(line).not.toContain('portcullis-bridge-')
  })

  it('answers a request the remote fails with a JSON-RPC error of the same id, and keeps working', async () => {
    start()
    const client = await connectedClient()
    remote.failNextCall(502)
    await expect(client.callTool({ name: 'echo', arguments: { text: 'x' } })).rejects.toThrow(
      /The remote MCP server answered HTTP 502: .*deliberate failure/,
    )
    expect(await client.callTool({ name: 'echo', arguments: { text: 'after' } })).toMatchObject({
      content: [{ type: 'text', text: 'after' }],
    })
  })

  it('answers initialize with an error when the remote cannot be reached', async () => {
    await remote.close()
    start()
    await bridge.start()
    const client = new Client({ name: 'host', version: '1' })
    await expect(client.connect(host)).rejects.toThrow(/could not forward the request/)
    remote = await startRemoteServer()
  })

  it('sends the static token on every request', async () => {
    start(createStaticTokenFetch('st4tic-t0ken'))
    const client = await connectedClient()
    await client.listTools()
    expect(remote.seen.length).toBeGreaterThan(1)
    for (const seen of remote.seen) expect(seen.authorization).toBe('Bearer st4tic-t0ken')
  })

  it('closes on stdin’s end and ends the remote session with DELETE', async () => {
    start()
    const client = await connectedClient()
    await client.listTools()
    const session = remote.seen.at(-1)!.sessionId
    stdin.end()
    await bridge.closed
    expect(remote.seen.at(-1)).toMatchObject({ method: 'DELETE', sessionId: session })
  })
})
