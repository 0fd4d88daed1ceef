/**
 * An MCP server on the official TypeScript SDK v2 (`@modelcontextprotocol/server`,
 * `createMcpHandler`) and Hono, protected by Portcullis: Protected Resource Metadata, bearer
 * tokens checked for issuer, audience and expiry, and per-tool scopes.
 *
 *   read_file    needs files:read
 *   delete_file  needs files:write (which implies files:read)
 *
 * Run: ISSUER=https://auth.example.com npx tsx examples/sdk-v2-hono/server.ts
 * (PORT defaults to 3000; keys come from the issuer's metadata `jwks_uri`).
 */

import type { AddressInfo } from 'node:net'
import { pathToFileURL } from 'node:url'
import { serve } from '@hono/node-server'
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server'
import { Hono } from 'hono'
import type { JSONWebKeySet } from 'jose'
import { z } from 'zod'
import { jwtVerifier, protectedResource } from '../../src/node/index.js'
import {
  type HonoAuthVariables,
  honoAuth,
  honoMetadata,
  type ScopePolicy,
  toSdkAuthInfo,
  type Verifier,
} from '../../src/resource-server/index.js'

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
  const server = new McpServer({ name: 'portcullis-example-v2', version: '1.0.0' })
  const subject = (ctx: { http?: { authInfo?: { extra?: Record<string, unknown> } } }) =>
    String(ctx.http?.authInfo?.extra?.['subject'])
  server.registerTool(
    'read_file',
    { description: 'Reads a file', inputSchema: z.object({ path: z.string() }) },
    async ({ path }, ctx) => ({ content: [{ type: 'text', text: `read ${path} for ${subject(ctx)}` }] }),
  )
  server.registerTool(
    'delete_file',
    { description: 'Deletes a file', inputSchema: z.object({ path: z.string() }) },
    async ({ path }, ctx) => ({ content: [{ type: 'text', text: `deleted ${path} for ${subject(ctx)}` }] }),
  )
  return server
}

/** Starts the server on 127.0.0.1; resolves with its MCP endpoint URL and a `close` function. */
export async function start(options: StartOptions): Promise<{ url: string; close: () => Promise<void> }> {
  let fetchHandler: (request: Request) => Response | Promise<Response> = () =>
    new Response(null, { status: 503 })
  const server = serve({
    fetch: (request) => fetchHandler(request),
    port: options.port,
    hostname: '127.0.0.1',
  })
  await new Promise<void>((resolve) => server.once('listening', resolve))
  const { port } = server.address() as AddressInfo
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
    resourceName: 'Portcullis example (SDK v2, Hono)',
  })
  const mcp = createMcpHandler(() => buildMcpServer())

  const app = new Hono<{ Variables: HonoAuthVariables }>()
  app.use(honoMetadata(rs))
  app.all('/mcp', honoAuth(rs), (c) =>
    mcp.fetch(c.req.raw, { authInfo: toSdkAuthInfo(c.get('auth'), { resourceMetadataUrl: rs.metadataUrl }) }),
  )
  fetchHandler = (request) => app.fetch(request)

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

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const issuer = process.env['ISSUER']
  if (issuer === undefined) throw new Error('set ISSUER to the authorization server issuer')
  const { url } = await start({ port: Number(process.env['PORT'] ?? 3000), issuer })
  console.log(`MCP server (SDK v2, Hono) at ${url}`)
}
