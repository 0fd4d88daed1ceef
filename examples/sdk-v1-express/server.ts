/**
 * An MCP server on the official TypeScript SDK v1 (`McpServer` + stateless Streamable HTTP) and
 * Express, protected by Portcullis: Protected Resource Metadata, bearer tokens checked for
 * issuer, audience and expiry, and per-tool scopes. The tools, their scopes and the protected
 * resource are in `../shared/files-server.ts`, shared with the SDK v2 example.
 *
 *   read_file    needs files:read
 *   delete_file  needs files:write (which implies files:read)
 *
 * Run: ISSUER=https://auth.example.com npx tsx examples/sdk-v1-express/server.ts
 * (PORT defaults to 3000; keys come from the issuer's metadata `jwks_uri`).
 */

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import { expressAuth, expressMetadata } from '../../src/node/index.js'
import * as files from '../shared/files-server.js'

export { type StartOptions, scopePolicy } from '../shared/files-server.js'

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'portcullis-example-v1', version: '1.0.0' })
  for (const tool of files.tools) {
    // req.auth (set by expressAuth) reaches the tool as extra.authInfo.
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: files.pathInput },
      async ({ path }, extra) => files.toolResult(tool, path, extra.authInfo),
    )
  }
  return server
}

/** Starts the server on 127.0.0.1; resolves with its MCP endpoint URL and a `close` function. */
export async function start(options: files.StartOptions): Promise<files.StartedServer> {
  const http: Server = createServer()
  await new Promise<void>((resolve) => http.listen(options.port, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  const resource = `http://127.0.0.1:${port}/mcp`
  const rs = files.resourceServer(options, resource, 'Portcullis example (SDK v1, Express)')

  const app = express()
  app.use(expressMetadata(rs))
  app.post('/mcp', express.json(), expressAuth(rs), async (req, res) => {
    // Stateless: one server and transport per request.
    const server = buildMcpServer()
    const transport = new StreamableHTTPServerTransport({}) // no sessionIdGenerator: stateless
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    await server.connect(transport)
    await transport.handleRequest(req, res, req.body)
  })
  http.on('request', app)

  return {
    url: resource,
    close: () =>
      new Promise<void>((resolve, reject) => {
        http.closeAllConnections()
        http.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}

await files.runIfMain(import.meta.url, start, 'SDK v1, Express')
