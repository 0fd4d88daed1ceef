import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { localAccounts } from '../../../src/authorization-server/index.js'
import type { DoctorReport, Finding } from '../../../src/cli/doctor/finding.js'
import { runDoctor } from '../../../src/cli/doctor/run-doctor.js'
import { createNodeAuthorizationServer } from '../../../src/node/authorization-server.js'
import { createLoopbackRedirectHandler } from '../../../src/node/client/redirect-handler.js'
import { createSafeFetch } from '../../../src/node/safe-fetch/index.js'
import { createMemoryStore } from '../../../src/storage/index.js'
import { completeLogin } from '../support/form-browser.js'

/**
 * How the deployment treats tokens: the MCP endpoint refuses them, or asks for more scope; or the
 * authorization server hands out tokens for another audience, and the MCP endpoint takes any token.
 */
type TokenAnswer = 'refuse' | 'more-scope' | 'wrong-audience'

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** A minimal MCP server that checks nothing: answers initialize and tools/list. */
async function lenientMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    res.writeHead(405).end()
    return
  }
  let body = ''
  for await (const chunk of req) body += chunk
  const message = JSON.parse(body) as { id?: number; method: string; params?: { protocolVersion?: string } }
  if (message.id === undefined) {
    res.writeHead(202).end()
    return
  }
  const result =
    message.method === 'initialize'
      ? {
          protocolVersion: message.params?.protocolVersion,
          capabilities: { tools: {} },
          serverInfo: { name: 'lenient', version: '1' },
        }
      : { tools: [] }
  res.writeHead(200, { 'content-type': 'application/json' })
  res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }))
}

/** The token endpoint's answer with the access token replaced by one for another audience. */
async function otherAudienceToken(
  as: { fetch(request: Request): Promise<Response> },
  origin: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  let body = ''
  for await (const chunk of req) body += chunk
  const response = await as.fetch(
    new Request(`${origin}/token`, {
      method: 'POST',
      headers: { 'content-type': String(req.headers['content-type']) },
      body,
    }),
  )
  const tokens = (await response.json()) as Record<string, unknown>
  if (typeof tokens['access_token'] === 'string') {
    const claims = { iss: origin, aud: 'https://other.example/mcp', sub: 'ada', exp: 4_000_000_000 }
    tokens['access_token'] = `${base64url({ alg: 'ES256', typ: 'at+jwt' })}.${base64url(claims)}.c2ln`
  }
  res.writeHead(response.status, { 'content-type': 'application/json', 'cache-control': 'no-store' })
  res.end(JSON.stringify(tokens))
}

let server: Server | undefined

afterEach(async () => {
  server?.closeAllConnections()
  await new Promise<void>((resolve) => (server === undefined ? resolve() : server.close(() => resolve())))
  server = undefined
})

/**
 * A real authorization server (local accounts, memory store) and, on the same origin, an MCP
 * endpoint with its PRM that answers token-carrying requests as told.
 */
async function startDeployment(answer: TokenAnswer): Promise<string> {
  let handle: (req: IncomingMessage, res: ServerResponse) => void = () => {}
  server = createServer((req, res) => handle(req, res))
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const mcpUrl = `${origin}/mcp`
  const prmUrl = `${origin}/.well-known/oauth-protected-resource/mcp`
  const as = createNodeAuthorizationServer({
    issuer: origin,
    store: await createMemoryStore(),
    resources: [{ uri: mcpUrl, scopes: { 'mcp:tools': 'Use the tools', 'mcp:admin': 'Administer' } }],
    login: localAccounts({ users: [{ username: 'ada', password: 'correct horse' }], iterations: 1000 }),
    cookieSecret: 'test-cookie-secret-0123456789abcdefghijkl',
    onAudit: () => {},
  })
  handle = (req, res) => {
    if (req.url === '/mcp') {
      req.resume()
      if (req.headers.authorization === undefined) {
        res.writeHead(401, {
          'www-authenticate': `Bearer resource_metadata="${prmUrl}", scope="mcp:tools"`,
        })
        res.end()
      } else if (answer === 'refuse') {
        res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end()
      } else if (answer === 'more-scope') {
        res
          .writeHead(403, {
            'www-authenticate': 'Bearer error="insufficient_scope", scope="mcp:tools mcp:admin"',
          })
          .end()
      } else {
        void lenientMcp(req, res)
      }
      return
    }
    if (req.url === '/token' && answer === 'wrong-audience') {
      void otherAudienceToken(as, origin, req, res)
      return
    }
    if (req.url === '/.well-known/oauth-protected-resource/mcp') {
      res.writeHead(200, { 'content-type': 'application/json', 'access-control-allow-origin': '*' })
      res.end(
        JSON.stringify({
          resource: mcpUrl,
          authorization_servers: [origin],
          scopes_supported: ['mcp:tools'],
        }),
      )
      return
    }
    void as.listener(req, res)
  }
  return mcpUrl
}

const byId = (report: DoctorReport, id: string): Finding => report.findings.find((f) => f.id === id)!

/** Doctor with `--login`; the browser step is done by a form-filling browser. Counts the logins. */
async function doctorLogin(mcpUrl: string): Promise<{ report: DoctorReport; logins: number }> {
  let logins = 0
  const report = await runDoctor({
    mcpUrl,
    fetch: createSafeFetch({ allowLoopback: true, maxRedirects: 0 }),
    allowHttpLoopback: true,
    login: {
      allowInsecureLoopback: true,
      redirect: createLoopbackRedirectHandler({
        opener: async (url) => {
          logins++
          await completeLogin(url, 'ada', 'correct horse')
        },
      }),
    },
  })
  return { report, logins }
}

describe('doctor --login when the server does not accept the token it asked for', { timeout: 60_000 }, () => {
  it('a refused token fails login.initialize with the challenge and the fix, after one login only', async () => {
    const { report, logins } = await doctorLogin(await startDeployment('refuse'))
    expect(logins).toBe(1)
    expect(report.ok).toBe(false)
    expect(byId(report, 'login.flow').status).toBe('pass')
    const initialize = byId(report, 'login.initialize')
    expect(initialize.status).toBe('fail')
    expect(initialize.message).toContain('the server refused the token issued for it: HTTP 401')
    expect(initialize.message).toContain('error="invalid_token"')
    expect(initialize.fix).toContain('whose audience is')
    expect(byId(report, 'login.tools-list').status).toBe('skip')
    // The token itself names the resource: the refusal is the server's.
    expect(byId(report, 'login.audience')).toMatchObject({ status: 'pass' })
    expect(byId(report, 'login.audience').message).not.toContain('accepted it')
  })

  it('a request that needs more scope than the login granted fails with the scope fix, no second login', async () => {
    const { report, logins } = await doctorLogin(await startDeployment('more-scope'))
    expect(logins).toBe(1)
    const initialize = byId(report, 'login.initialize')
    expect(initialize.status).toBe('fail')
    expect(initialize.message).toContain('HTTP 403')
    expect(initialize.fix).toContain("the 401 challenge's scope")
  })

  it('a token for another audience fails login.audience, and says the server took it all the same', async () => {
    const { report, logins } = await doctorLogin(await startDeployment('wrong-audience'))
    expect(logins).toBe(1)
    expect(byId(report, 'login.initialize').status).toBe('pass')
    expect(byId(report, 'login.tools-list')).toMatchObject({ status: 'pass', message: '0 tools' })
    const audience = byId(report, 'login.audience')
    expect(audience.status).toBe('fail')
    expect(audience.message).toContain('aud is https://other.example/mcp, not http://127.0.0.1:')
    expect(audience.message).toContain('does not check the audience')
    expect(audience.fix).toContain('RFC 8707')
    expect(report.ok).toBe(false)
  })
})
