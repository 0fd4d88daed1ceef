/**
 * The official MCP TypeScript SDK (v1) client, `auth()` with a loopback redirect, against our
 * authorization server and our resource server guarding an SDK v1 McpServer, through to a
 * successful `tools/call`. Everything on 127.0.0.1.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { auth, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import type { OAuthClientInformationMixed, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { z } from 'zod'
import { createRequest, writeResponse } from '../../src/node/adapters/node-http.js'
import { toSdkAuthInfo } from '../../src/resource-server/auth-info.js'
import { jwtVerifier } from '../../src/resource-server/jwt-verifier.js'
import { protectedResource } from '../../src/resource-server/protected-resource.js'
import { browserAuthorize, type RunningAuthorizationServer, startAuthorizationServer } from './as-server.js'

const REDIRECT = 'http://127.0.0.1:53683/callback'

class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined
  saved: OAuthTokens | undefined
  verifier = ''
  authorizationUrl: URL | undefined
  get redirectUrl() {
    return REDIRECT
  }
  get clientMetadata() {
    return {
      client_name: 'SDK interop client',
      redirect_uris: [REDIRECT],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
    }
  }
  clientInformation() {
    return this.info
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info
  }
  tokens() {
    return this.saved
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url
  }
  saveCodeVerifier(verifier: string) {
    this.verifier = verifier
  }
  codeVerifier() {
    return this.verifier
  }
}

describe('MCP SDK v1 client auth() against our authorization server and resource server', () => {
  let running: RunningAuthorizationServer
  let rsServer: Server
  let mcpUrl: string

  beforeAll(async () => {
    let handle: (req: IncomingMessage, res: import('node:http').ServerResponse) => Promise<void> = async (
      _q,
      s,
    ) => {
      s.writeHead(503).end()
    }
    rsServer = createServer((req, res) => void handle(req, res))
    await new Promise<void>((resolve) => rsServer.listen(0, '127.0.0.1', resolve))
    const rsOrigin = `http://127.0.0.1:${(rsServer.address() as AddressInfo).port}`
    mcpUrl = `${rsOrigin}/mcp`
    running = await startAuthorizationServer(() => ({
      resources: [{ uri: mcpUrl, name: 'Echo MCP', scopes: { 'mcp:tools': 'Call the tools' } }],
    }))
    const guard = protectedResource({
      resource: mcpUrl,
      authorizationServers: [running.issuer],
      scopesSupported: ['mcp:tools'],
      allowInsecureResource: true,
      verifier: jwtVerifier({
        issuer: running.issuer,
        audience: mcpUrl,
        jwksUri: `${running.issuer}/jwks`,
        fetch: (u, i) => fetch(u, i),
      }),
    })
    handle = async (req, res) => {
      const chunks: Buffer[] = []
      for await (const chunk of req) chunks.push(chunk as Buffer)
      const raw = Buffer.concat(chunks)
      const request = createRequest(req, { origin: rsOrigin, body: raw.length > 0 ? raw : null })
      const metadata = await guard.metadata(request)
      if (metadata !== undefined) return writeResponse(res, metadata)
      if (new URL(request.url).pathname !== '/mcp')
        return writeResponse(res, new Response('not found', { status: 404 }))
      const authInfo = await guard.authenticate(request)
      if (authInfo instanceof Response) return writeResponse(res, authInfo)
      const server = new McpServer({ name: 'echo', version: '1.0.0' })
      server.registerTool('echo', { inputSchema: { text: z.string() } }, async ({ text }, extra) => ({
        content: [
          {
            type: 'text',
            text: `${text} (client ${extra.authInfo?.clientId}, scopes ${extra.authInfo?.scopes.join(' ')})`,
          },
        ],
      }))
      const transport = new StreamableHTTPServerTransport({})
      res.on('close', () => {
        void transport.close()
        void server.close()
      })
      await server.connect(transport)
      ;(req as IncomingMessage & { auth?: unknown }).auth = toSdkAuthInfo(authInfo)
      await transport.handleRequest(req, res, raw.length > 0 ? JSON.parse(raw.toString('utf8')) : undefined)
    }
  })

  afterAll(async () => {
    await running.close()
    rsServer.closeAllConnections()
    await new Promise<void>((resolve) => rsServer.close(() => resolve()))
  })

  it('discovers, registers, authorizes with a loopback redirect, and calls a tool', async () => {
    const provider = new MemoryProvider()
    // First call: PRM → AS metadata → DCR → authorization URL.
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('REDIRECT')
    expect(provider.info?.client_id).toBeTruthy()
    const url = provider.authorizationUrl!
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('resource')).toBe(mcpUrl)
    const callback = await browserAuthorize(url.href)
    expect(callback.searchParams.get('iss')).toBe(running.issuer)
    expect(callback.searchParams.get('state')).toBe(url.searchParams.get('state'))
    // Second call: the code for tokens.
    expect(
      await auth(provider, { serverUrl: mcpUrl, authorizationCode: callback.searchParams.get('code')! }),
    ).toBe('AUTHORIZED')
    expect(provider.saved?.access_token).toBeTruthy()
    expect(provider.saved?.refresh_token).toBeTruthy()

    const client = new Client({ name: 'interop', version: '1.0.0' })
    await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { authProvider: provider }))
    const result = await client.callTool({ name: 'echo', arguments: { text: 'hello' } })
    expect(result.content).toEqual([
      { type: 'text', text: `hello (client ${provider.info!.client_id}, scopes mcp:tools)` },
    ])
    await client.close()
  })

  it('refreshes through auth() when the access token is gone', async () => {
    const provider = new MemoryProvider()
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('REDIRECT')
    const callback = await browserAuthorize(provider.authorizationUrl!.href)
    await auth(provider, { serverUrl: mcpUrl, authorizationCode: callback.searchParams.get('code')! })
    const first = provider.saved!
    // auth() with a refresh token and no code refreshes.
    expect(await auth(provider, { serverUrl: mcpUrl })).toBe('AUTHORIZED')
    expect(provider.saved!.refresh_token).not.toBe(first.refresh_token)
    expect(provider.saved!.access_token).not.toBe(first.access_token)
  })

  it('a request without a token gets the 401 challenge the SDK discovers from', async () => {
    const r = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(r.status).toBe(401)
    expect(r.headers.get('www-authenticate')).toContain('resource_metadata=')
  })
})
