/**
 * A stateful MCP server on 127.0.0.1 (official SDK, Streamable HTTP with sessions), without
 * authorization: the remote end of the forwarding tests. It records what reaches it and can be
 * made to forget its sessions or to fail.
 */
import { randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'

export interface SeenRequest {
  method: string
  /** The JSON-RPC method(s) of a POST. */
  rpc: string[]
  sessionId: string | undefined
  protocolVersion: string | undefined
  authorization: string | undefined
}

export interface RemoteServer {
  url: string
  seen: SeenRequest[]
  /** Drops every session: the next request with an old session id gets 404. */
  forgetSessions(): void
  /** Answers the next POST carrying `tools/call` with this status. */
  failNextCall(status: number): void
  close(): Promise<void>
}

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bridge-remote', version: '1.0.0' }, { capabilities: { logging: {} } })
  server.registerTool(
    'echo',
    { description: 'Echoes', inputSchema: { text: z.string() } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  )
  server.registerTool('ask_host', { description: 'Asks the host for its roots' }, async () => {
    const { roots } = await server.server.listRoots()
    return { content: [{ type: 'text', text: roots.map((root) => root.uri).join(',') }] }
  })
  server.registerTool('log', { description: 'Sends a log message, then answers' }, async (extra) => {
    // One on the request's own stream, one on the session's standalone GET stream.
    await extra.sendNotification({
      method: 'notifications/message',
      params: { level: 'info', data: 'on the request stream' },
    })
    await server.server.sendLoggingMessage(
      { level: 'info', data: 'on the standalone stream' },
      extra.sessionId,
    )
    return { content: [{ type: 'text', text: 'logged' }] }
  })
  return server
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = []
  for await (const chunk of req) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('utf8')
  return text === '' ? undefined : JSON.parse(text)
}

export async function startRemoteServer(): Promise<RemoteServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>()
  const seen: SeenRequest[] = []
  let failCall: number | undefined

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = req.method === 'POST' ? await readBody(req) : undefined
    const messages = (Array.isArray(body) ? body : body === undefined ? [] : [body]) as Array<{
      method?: string
    }>
    const sessionId = req.headers['mcp-session-id'] as string | undefined
    seen.push({
      method: req.method ?? '',
      rpc: messages.map((message) => message.method ?? 'response'),
      sessionId,
      protocolVersion: req.headers['mcp-protocol-version'] as string | undefined,
      authorization: req.headers.authorization,
    })
    if (failCall !== undefined && messages.some((message) => message.method === 'tools/call')) {
      const status = failCall
      failCall = undefined
      res.writeHead(status, { 'content-type': 'text/plain' }).end('deliberate failure')
      return
    }
    if (sessionId !== undefined) {
      const transport = sessions.get(sessionId)
      if (transport === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' })
        res.end(
          JSON.stringify({ jsonrpc: '2.0', error: { code: -32001, message: 'Session not found' }, id: null }),
        )
        return
      }
      await transport.handleRequest(req, res, body)
      return
    }
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => {
        sessions.set(id, transport)
      },
      onsessionclosed: (id) => {
        sessions.delete(id)
      },
    })
    await buildServer().connect(transport)
    await transport.handleRequest(req, res, body)
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/mcp`,
    seen,
    forgetSessions() {
      for (const transport of sessions.values()) void transport.close()
      sessions.clear()
    },
    failNextCall(status) {
      failCall = status
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const transport of sessions.values()) void transport.close()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
