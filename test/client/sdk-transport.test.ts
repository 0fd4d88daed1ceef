import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { afterEach, describe, expect, it } from 'vitest'
import { createMcpAuthClient } from '../../src/client/index.js'
import { type FakeServer, headlessRedirect, startFakeServer } from './support.js'

const closers: Array<() => Promise<void>> = []
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()))
})

/** A real SDK MCP server (stateless) behind a bearer check against the fake authorization server. */
async function startMcpServer(as: FakeServer): Promise<string> {
  const server = createServer((req, res) => {
    const auth = req.headers.authorization
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
    if (token === undefined || !as.tokens.has(token)) {
      res.writeHead(401, {
        'www-authenticate': `Bearer resource_metadata="${as.base}/.well-known/oauth-protected-resource/mcp"`,
      })
      res.end()
      return
    }
    const mcp = new McpServer({ name: 'demo', version: '1.0.0' })
    mcp.registerTool('echo', { description: 'echo' }, async () => ({
      content: [{ type: 'text', text: 'hi' }],
    }))
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined } as never)
    res.on('close', () => void transport.close())
    void mcp.connect(transport).then(() => transport.handleRequest(req, res))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  closers.push(
    () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`
}

describe('the fetch wrapper with the official SDK v1 Streamable HTTP transport', () => {
  it('connects, lists and calls tools after an automated login', async () => {
    const as = await startFakeServer()
    closers.push(() => as.close())
    const url = await startMcpServer(as)
    // The resource metadata (served next to the authorization server here) names the MCP server.
    as.options.prmResource = url
    const auth = createMcpAuthClient({
      redirect: headlessRedirect(),
      allowInsecureLoopback: true,
    })
    const transport = new StreamableHTTPClientTransport(new URL(url), { fetch: auth.fetch })
    const client = new Client({ name: 'test', version: '1.0.0' })
    await client.connect(transport)
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['echo'])
    const result = await client.callTool({ name: 'echo', arguments: {} })
    expect(result.content).toEqual([{ type: 'text', text: 'hi' }])
    expect(as.count('/authorize')).toBe(1)
    await client.close()
  })
})
