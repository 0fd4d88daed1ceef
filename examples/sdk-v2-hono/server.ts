/**
 * An MCP server on the official TypeScript SDK v2 (`@modelcontextprotocol/server`,
 * `createMcpHandler`) and Hono, protected by Portcullis: Protected Resource Metadata, bearer
 * tokens checked for issuer, audience and expiry, and per-tool scopes. The tools, their scopes
 * and the protected resource are in `../shared/files-server.ts`, shared with the SDK v1 example.
 *
 *   read_file    needs files:read
 *   delete_file  needs files:write (which implies files:read)
 *
 * Run: ISSUER=https://auth.example.com npx tsx examples/sdk-v2-hono/server.ts
 * (PORT defaults to 3000; keys come from the issuer's metadata `jwks_uri`).
 */

import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server'
import { Hono } from 'hono'
import { z } from 'zod'
import { honoNodeHead } from '../../src/node/resource-server.js'
import {
  type HonoAuthVariables,
  honoAuth,
  honoMetadata,
  toSdkAuthInfo,
} from '../../src/resource-server/index.js'
import * as files from '../shared/files-server.js'

export { type StartOptions, scopePolicy } from '../shared/files-server.js'

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'portcullis-example-v2', version: '1.0.0' })
  for (const tool of files.tools) {
    // The authInfo passed to mcp.fetch below reaches the tool as ctx.http.authInfo.
    server.registerTool(
      tool.name,
      { description: tool.description, inputSchema: z.object(files.pathInput) },
      async ({ path }, ctx) => files.toolResult(tool, path, ctx.http?.authInfo),
    )
  }
  return server
}

/** Starts the server on 127.0.0.1; resolves with its MCP endpoint URL and a `close` function. */
export async function start(options: files.StartOptions): Promise<files.StartedServer> {
  let fetchHandler: (request: Request, env: unknown) => Response | Promise<Response> = () =>
    new Response(null, { status: 503 })
  const server = serve({
    // The env ({ incoming, outgoing }) is passed on: honoNodeHead reads the Node request in it.
    fetch: (request, env) => fetchHandler(request, env),
    port: options.port,
    hostname: '127.0.0.1',
  })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
  const resource = `http://127.0.0.1:${port}/mcp`
  const rs = files.resourceServer(options, resource, 'Portcullis example (SDK v2, Hono)')
  const mcp = createMcpHandler(() => buildMcpServer())

  const app = new Hono<{ Variables: HonoAuthVariables }>()
  app.use(honoMetadata(rs))
  app.all('/mcp', honoAuth(rs, { head: honoNodeHead }), (c) =>
    mcp.fetch(c.req.raw, { authInfo: toSdkAuthInfo(c.get('auth'), { resourceMetadataUrl: rs.metadataUrl }) }),
  )
  fetchHandler = (request, env) => app.fetch(request, env)

  return {
    url: resource,
    close: async () => {
      await mcp.close()
      await new Promise<void>((resolve, reject) => {
        if ('closeAllConnections' in server) server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      })
    },
  }
}

await files.runIfMain(import.meta.url, start, 'SDK v2, Hono')
