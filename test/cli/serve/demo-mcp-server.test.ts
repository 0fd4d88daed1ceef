import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import {
  createDemoMcpHandler,
  createNotesBook,
  DEMO_SCOPE_POLICY,
} from '../../../src/cli/serve/demo-mcp-server.js'
import { protectedResource } from '../../../src/node/resource-server.js'
import type { VerifiedToken, Verifier } from '../../../src/resource-server/auth-info.js'
import { TokenVerificationError } from '../../../src/resource-server/errors.js'

const ISSUER = 'https://auth.example.com'

/** Tokens of this test: `token-<subject>-<scope~scope>` with `.` for `:` (RFC 6750 b64token characters). */
function testVerifier(resource: string): Verifier {
  return {
    async verify(token: string): Promise<VerifiedToken> {
      const match = /^token-([a-z]+)-([a-z.~]+)$/.exec(token)
      if (match === null) throw new TokenVerificationError('ERR_MALFORMED')
      return {
        subject: match[1]!,
        clientId: 'test-client',
        scopes: match[2]!.replaceAll('.', ':').split('~'),
        issuer: ISSUER,
        audience: [resource],
        expiresAt: Math.floor(Date.now() / 1000) + 600,
        claims: {},
      }
    },
  }
}

let http: Server
let mcpUrl: string

beforeEach(async () => {
  http = createServer()
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve))
  const { port } = http.address() as AddressInfo
  mcpUrl = `http://127.0.0.1:${port}/mcp`
  const rs = protectedResource({
    resource: mcpUrl,
    authorizationServers: [ISSUER],
    verifier: testVerifier(mcpUrl),
    scopes: DEMO_SCOPE_POLICY,
  })
  const handler = createDemoMcpHandler({
    rs,
    notes: createNotesBook(),
    allowedHosts: [`127.0.0.1:${port}`],
    allowedOrigins: [`http://127.0.0.1:${port}`],
  })
  http.on('request', (req, res) => void handler(req, res))
})

afterEach(async () => {
  http.closeAllConnections()
  await new Promise<void>((resolve) => http.close(() => resolve()))
})

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'demo-test', version: '1' })
  await client.connect(
    new StreamableHTTPClientTransport(new URL(mcpUrl), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    }),
  )
  return client
}

function textOf(result: Awaited<ReturnType<Client['callTool']>>): string {
  return (result.content as Array<{ type: string; text: string }>)[0]!.text
}

describe('the demo MCP server of serve', () => {
  it('lists its four tools and answers whoami from the verified token', async () => {
    const client = await connect('token-alice-notes.read')
    const { tools } = await client.listTools()
    expect(tools.map((t) => t.name).sort()).toEqual(['add_note', 'delete_all_notes', 'list_notes', 'whoami'])
    const whoami = JSON.parse(textOf(await client.callTool({ name: 'whoami', arguments: {} })))
    expect(whoami).toEqual({ subject: 'alice', client_id: 'test-client', scopes: ['notes:read'] })
    await client.close()
  })

  it('keeps notes per user', async () => {
    const alice = await connect('token-alice-notes.read~notes.write')
    expect(textOf(await alice.callTool({ name: 'add_note', arguments: { text: 'buy milk' } }))).toBe(
      'Saved note 1.',
    )
    expect(textOf(await alice.callTool({ name: 'list_notes', arguments: {} }))).toBe('1. buy milk')
    const bob = await connect('token-bob-notes.read')
    expect(textOf(await bob.callTool({ name: 'list_notes', arguments: {} }))).toBe('No notes yet.')
    await alice.close()
    await bob.close()
  })

  it('asks for more scope (403 insufficient_scope) for add_note with notes:read only: step-up', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        authorization: 'Bearer token-alice-notes.read',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'add_note', arguments: { text: 'x' } },
      }),
    })
    expect(response.status).toBe(403)
    const challenge = response.headers.get('www-authenticate') ?? ''
    expect(challenge).toContain('error="insufficient_scope"')
    expect(challenge).toContain('notes:write')
  })

  it('needs notes:admin for delete_all_notes, even with notes:write', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        authorization: 'Bearer token-alice-notes.read~notes.write',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'delete_all_notes', arguments: {} },
      }),
    })
    expect(response.status).toBe(403)
    expect(response.headers.get('www-authenticate')).toContain('notes:admin')
  })

  it('refuses a request without a token with 401 and the PRM URL', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(response.status).toBe(401)
    expect(response.headers.get('www-authenticate')).toContain('/.well-known/oauth-protected-resource/mcp')
  })

  it('refuses a foreign Origin (DNS rebinding) even with a valid token', async () => {
    const response = await fetch(mcpUrl, {
      method: 'POST',
      headers: {
        authorization: 'Bearer token-alice-notes.read',
        origin: 'https://evil.example',
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    })
    expect(response.status).toBe(403)
  })
})
