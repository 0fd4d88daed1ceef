/**
 * An MCP server on the official TypeScript SDK v1 (`McpServer` + stateless Streamable HTTP) and
 * Express, protected by Portcullis: Protected Resource Metadata, bearer tokens checked for
 * issuer, audience and expiry, and per-tool scopes.
 *
 *   read_file    needs files:read
 *   delete_file  needs files:write (which implies files:read)
 *
 * Run: ISSUER=https://auth.example.com npx tsx examples/sdk-v1-express/server.ts
 * (PORT defaults to 3000; keys come from the issuer's metadata `jwks_uri`).
 */

import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import express from 'express'
import type { JSONWebKeySet } from 'jose'
import { z } from 'zod'
import { expressAuth, expressMetadata, jwtVerifier, protectedResource } from '../../src/node/index.js'
import type { ScopePolicy, Verifier } from '../../src/resource-server/index.js'

/** Options of {@link start}. */
export interface StartOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number
  /** The authorization server's issuer identifier. */
  issuer: string
  /** A local JWK Set (else the keys are read from the issuer's metadata). */
  jwks?: JSONWebKeySet
  /** A ready verifier, built from the resource URL once the port is known. */
  verifier?: (resource: string) => Verifier
}

/** The scopes of this server: read by default, write to delete. */
export const scopePolicy: ScopePolicy = {
  default: ['files:read'],
  tools: { delete_file: ['files:write'] },
  hierarchy: { 'files:write': ['files:read'] },
}

function buildMcpServer(): McpServer {
  const server = new McpServer({ name: 'portcullis-example-v1', version: '1.0.0' })
  server.registerTool(
    'read_file',
    { description: 'Reads a file', inputSchema: { path: z.string() } },
    async ({ path }, extra) => ({
      content: [{ type: 'text', text: `read ${path} for ${String(extra.authInfo?.extra?.['subject'])}` }],
    }),
  )
  server.registerTool(
    'delete_file',
    { description: 'Deletes a file', inputSchema: { path: z.string() } },
    async ({ path }, extra) => ({
      content: [{ type: 'text', text: `deleted ${path} for ${String(extra.authInfo?.extra?.['subject'])}` }],
    }),
  )
  return server
}

/** Starts the server on 127.0.0.1; resolves with its MCP endpoint URL and a `close` function. */
export async function start(options: StartOptions): Promise<{ url: string; close: () => Promise<void> }> {
  const http: Server = createServer()
  await new Promise<void>((resolve) => http.listen(options.port, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  const resource = `http://127.0.0.1:${port}/mcp`

  const rs = protectedResource({
    resource,
    authorizationServers: [options.issuer],
    verifier:
      options.verifier?.(resource) ??
      jwtVerifier({
        issuer: options.issuer,
        audience: resource,
        ...(options.jwks === undefined ? {} : { jwks: options.jwks }),
      }),
    scopes: scopePolicy,
    resourceName: 'Portcullis example (SDK v1, Express)',
  })

  const app = express()
  app.use(expressMetadata(rs))
  app.post('/mcp', express.json(), expressAuth(rs), async (req, res) => {
    // Stateless: one server and transport per request; req.auth reaches the tools as extra.authInfo.
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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const issuer = process.env['ISSUER']
  if (issuer === undefined) throw new Error('set ISSUER to the authorization server issuer')
  const { url } = await start({ port: Number(process.env['PORT'] ?? 3000), issuer })
  console.log(`MCP server (SDK v1, Express) at ${url}`)
}
