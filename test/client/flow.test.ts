import { afterEach, describe, expect, it } from 'vitest'
import {
  ClientError,
  createMcpAuthClient,
  createMemoryCredentialStore,
  type McpAuthEvent,
} from '../../src/client/index.js'
import { type FakeServer, headlessRedirect, startFakeServer } from './support.js'

const servers: FakeServer[] = []
async function fake(options: Parameters<typeof startFakeServer>[0] = {}): Promise<FakeServer> {
  const server = await startFakeServer(options)
  servers.push(server)
  return server
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()))
})

function post(client: ReturnType<typeof createMcpAuthClient>, url: string, body = '{"jsonrpc":"2.0"}') {
  return client.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
}

describe('createMcpAuthClient: first request', () => {
  it('turns a 401 into discovery, registration, PKCE login and an authorized retry', async () => {
    const server = await fake()
    const events: McpAuthEvent[] = []
    const redirect = headlessRedirect()
    const client = createMcpAuthClient({
      redirect,
      allowInsecureLoopback: true,
      onEvent: (e) => events.push(e),
    })
    const response = await post(client, server.mcpUrl, '{"id":1}')
    expect(response.status).toBe(200)
    expect(await response.json()).toEqual({ ok: true, body: '{"id":1}' })

    const authorize = server.requests.find((r) => r.path === '/authorize')!
    expect(authorize.query.get('code_challenge_method')).toBe('S256')
    expect(authorize.query.get('resource')).toBe(server.mcpUrl)
    const token = server.requests.find((r) => r.path === '/token')!
    expect(token.form.get('resource')).toBe(server.mcpUrl)
    expect(token.form.get('code_verifier')).toMatch(/^[A-Za-z0-9._~-]{43,128}$/)
    const register = JSON.parse(
      JSON.stringify(Object.fromEntries(server.requests.find((r) => r.path === '/register')!.form)),
    )
    expect(register).toBeDefined()
    expect(events.map((e) => e.type)).toEqual(['discovery', 'discovery', 'registration', 'browser', 'token'])
    // No token or code in any event.
    expect(JSON.stringify(events)).not.toMatch(/at-\d|rt-\d|code-\d/)
  })

  it('a second client on the same store sends exactly one request (no discovery)', async () => {
    const server = await fake()
    const store = createMemoryCredentialStore()
    const first = createMcpAuthClient({
      redirect: headlessRedirect(),
      credentialStore: store,
      allowInsecureLoopback: true,
    })
    await post(first, server.mcpUrl)
    const before = server.requests.length
    const second = createMcpAuthClient({ credentialStore: store, allowInsecureLoopback: true })
    expect((await post(second, server.mcpUrl)).status).toBe(200)
    expect(server.requests.length - before).toBe(1)
  })

  it('requests offline_access only when the server lists it, and the challenge scope first', async () => {
    const server = await fake({ challengeScope: 'mcp:read' })
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    await post(client, server.mcpUrl)
    expect(server.requests.find((r) => r.path === '/authorize')!.query.get('scope')).toBe(
      'mcp:read offline_access',
    )

    const plain = await fake({ challengeScope: 'mcp:read', metadata: { scopes_supported: ['mcp:read'] } })
    await post(
      createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true }),
      plain.mcpUrl,
    )
    expect(plain.requests.find((r) => r.path === '/authorize')!.query.get('scope')).toBe('mcp:read')
  })
})

describe('createMcpAuthClient: refusals before any code is used', () => {
  it('mix-up: an iss naming another authorization server is refused and the code never reaches a token endpoint', async () => {
    const server = await fake({ iss: 'https://attacker.example' })
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    const error = await post(client, server.mcpUrl).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ClientError)
    expect((error as ClientError).code).toBe('ERR_ISS_MISMATCH')
    expect(server.count('/token')).toBe(0)
  })

  it('a missing iss is refused when the server advertises it, and accepted when it does not', async () => {
    const advertised = await fake({ iss: null })
    const error = await post(
      createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true }),
      advertised.mcpUrl,
    ).catch((e: unknown) => e)
    expect((error as ClientError).code).toBe('ERR_ISS_MISMATCH')
    expect(advertised.count('/token')).toBe(0)

    const silent = await fake({
      iss: null,
      metadata: { authorization_response_iss_parameter_supported: null },
    })
    const response = await post(
      createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true }),
      silent.mcpUrl,
    )
    expect(response.status).toBe(200)
  })

  it('metadata whose issuer differs from the one it was fetched for is never used', async () => {
    const server = await fake({ metadata: { issuer: 'https://honest.example' } })
    const redirect = headlessRedirect()
    const error = await post(
      createMcpAuthClient({ redirect, allowInsecureLoopback: true }),
      server.mcpUrl,
    ).catch((e: unknown) => e)
    expect((error as ClientError).code).toBe('ERR_ISSUER_MISMATCH')
    expect(server.count('/register') + server.count('/authorize') + server.count('/token')).toBe(0)
    expect(redirect.opened).toEqual([])
  })

  it('an authorization server without PKCE S256 is refused', async () => {
    const server = await fake({ metadata: { code_challenge_methods_supported: null } })
    const error = await post(
      createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true }),
      server.mcpUrl,
    ).catch((e: unknown) => e)
    expect((error as ClientError).code).toBe('ERR_PKCE_UNSUPPORTED')
    expect(server.count('/authorize')).toBe(0)
  })

  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'a:$(calc)'])(
    'metadata authorization_endpoint %s is refused and nothing is opened',
    async (endpoint) => {
      const server = await fake({ metadata: { authorization_endpoint: endpoint } })
      const redirect = headlessRedirect()
      const error = await post(
        createMcpAuthClient({ redirect, allowInsecureLoopback: true }),
        server.mcpUrl,
      ).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ClientError)
      expect(['ERR_DISCOVERY', 'ERR_INSECURE_URL']).toContain((error as ClientError).code)
      expect(redirect.opened).toEqual([])
    },
  )

  it('a resource metadata document for another resource stops the flow before authorization', async () => {
    const server = await fake({ prmResource: 'https://evil.example/mcp' })
    const redirect = headlessRedirect()
    const error = await post(
      createMcpAuthClient({ redirect, allowInsecureLoopback: true }),
      server.mcpUrl,
    ).catch((e: unknown) => e)
    expect((error as ClientError).code).toBe('ERR_RESOURCE_MISMATCH')
    expect(server.count('/.well-known/oauth-authorization-server')).toBe(0)
    expect(redirect.opened).toEqual([])
  })
})

describe('S22: credentials only go to the issuer that minted them, over TLS', () => {
  it('refuses http metadata endpoints unless loopback is explicitly allowed', async () => {
    const server = await fake()
    const error = await post(createMcpAuthClient({ redirect: headlessRedirect() }), server.mcpUrl).catch(
      (e: unknown) => e,
    )
    expect((error as ClientError).code).toBe('ERR_INSECURE_URL')
    expect(server.requests.filter((r) => r.path.startsWith('/.well-known')).length).toBe(0)
  })

  it('refuses a token endpoint that is plain http to a non-loopback host', async () => {
    const server = await fake({ metadata: { token_endpoint: 'http://as.example/token' } })
    const error = await post(
      createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true }),
      server.mcpUrl,
    ).catch((e: unknown) => e)
    expect((error as ClientError).code).toBe('ERR_INSECURE_URL')
  })

  it('after the resource moves to another authorization server, the old refresh token and client id never reach it', async () => {
    const as1 = await fake()
    const as2 = await fake()
    let moved = false
    const rs = await fake({
      authorizationServers: () => [moved ? as2.issuer : as1.issuer],
      tokenLookup: (token) => (moved ? as2 : as1).tokens.get(token),
    })
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    expect((await post(client, rs.mcpUrl)).status).toBe(200)
    const as1Client = as1.requests.find((r) => r.path === '/authorize')!.query.get('client_id')
    moved = true
    expect((await post(client, rs.mcpUrl)).status).toBe(200)
    // The refused AS1 token was refreshed at AS1 only; then discovery found AS2 and registered there.
    expect(as1.count('/token', 'refresh_token')).toBe(1)
    expect(as2.count('/register')).toBe(1)
    expect(as2.count('/token', 'authorization_code')).toBe(1)
    for (const request of as2.requests) {
      expect(request.query.get('client_id')).not.toBe(as1Client)
      expect(request.form.get('client_id')).not.toBe(as1Client)
      expect(request.form.get('grant_type')).not.toBe('refresh_token')
    }
  })
})

describe('S21: refresh races', () => {
  it('N parallel calls with one expired token cause exactly one refresh request', async () => {
    const server = await fake({ expiresIn: 120, tokenDelayMs: 50 })
    let now = Date.now()
    const client = createMcpAuthClient({
      redirect: headlessRedirect(),
      allowInsecureLoopback: true,
      clock: () => now,
    })
    await post(client, server.mcpUrl)
    now += 10 * 60_000
    const responses = await Promise.all(Array.from({ length: 50 }, () => post(client, server.mcpUrl)))
    expect(responses.every((r) => r.status === 200)).toBe(true)
    expect(server.count('/token', 'refresh_token')).toBe(1)
  })

  it('a 401 with a token refreshes once; invalid_grant on refresh logs in again once', async () => {
    const server = await fake({ tokenErrors: { refresh_token: { error: 'invalid_grant' } } })
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    await post(client, server.mcpUrl)
    server.tokens.clear() // the resource forgets the token: 401 with a token
    expect((await post(client, server.mcpUrl)).status).toBe(200)
    expect(server.count('/token', 'refresh_token')).toBe(1)
    expect(server.count('/authorize')).toBe(2)
  })
})

describe('step-up', () => {
  it('re-authorizes with the union of the previous and challenged scopes', async () => {
    const server = await fake({ challengeScope: 'mcp:read', requiredScope: ['mcp:read', 'mcp:write'] })
    const client = createMcpAuthClient({
      redirect: headlessRedirect(),
      allowInsecureLoopback: true,
      refreshTokens: false,
    })
    expect((await post(client, server.mcpUrl)).status).toBe(200)
    const scopes = server.requests.filter((r) => r.path === '/authorize').map((r) => r.query.get('scope'))
    expect(scopes).toEqual(['mcp:read', 'mcp:read mcp:write'])
  })

  it('stops after three authorizations for one request', async () => {
    const server = await fake({ requiredScope: ['mcp:admin'], metadata: { scopes_supported: ['mcp:read'] } })
    // The server never grants mcp:admin: strip it from issued tokens.
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    const original = server.tokens.set.bind(server.tokens)
    server.tokens.set = (token, scope) =>
      original(
        token,
        scope.filter((s) => s !== 'mcp:admin'),
      )
    const error = await post(client, server.mcpUrl).catch((e: unknown) => e)
    expect((error as ClientError).code).toBe('ERR_STEP_UP_LIMIT')
    expect(server.count('/authorize')).toBe(3)
  })
})

describe('recovery', () => {
  it('invalid_client at the token endpoint registers again once, then succeeds', async () => {
    const server = await fake({
      tokenErrors: { authorization_code: { error: 'invalid_client', status: 401 } },
    })
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    expect((await post(client, server.mcpUrl)).status).toBe(200)
    expect(server.count('/register')).toBe(2)
  })

  it('never discards pre-registered credentials and never loops on invalid_client', async () => {
    const server = await fake({
      tokenErrors: { authorization_code: { error: 'invalid_client', status: 401, times: 5 } },
    })
    const client = createMcpAuthClient({
      redirect: headlessRedirect(),
      allowInsecureLoopback: true,
      preRegistered: { [server.issuer]: { client_id: 'pre', client_secret: 's3cret' } },
    })
    const error = await post(client, server.mcpUrl).catch((e: unknown) => e)
    expect((error as ClientError).oauthError).toBe('invalid_client')
    expect(server.count('/register')).toBe(0)
    expect(server.count('/token')).toBe(1)
    const basic = server.requests.find((r) => r.path === '/token')!.headers.authorization
    expect(Buffer.from(basic!.slice(6), 'base64').toString()).toBe('pre:s3cret')
  })

  it('pre-registered credentials for another issuer are not used', async () => {
    const server = await fake({ metadata: { registration_endpoint: null } })
    const client = createMcpAuthClient({
      redirect: headlessRedirect(),
      allowInsecureLoopback: true,
      preRegistered: { 'https://other.example': { client_id: 'pre', client_secret: 's3cret' } },
    })
    const error = await post(client, server.mcpUrl).catch((e: unknown) => e)
    expect((error as ClientError).code).toBe('ERR_NO_CLIENT_ID')
    expect(server.requests.some((r) => r.headers.authorization !== undefined && r.path === '/token')).toBe(
      false,
    )
  })
})

describe('logout and status', () => {
  it('revokes at the authorization server, then forgets the tokens', async () => {
    const server = await fake()
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    await post(client, server.mcpUrl)
    const status = await client.status(server.mcpUrl)
    expect(status).toMatchObject({
      loggedIn: true,
      issuer: server.issuer,
      resource: server.mcpUrl,
      refreshable: true,
    })
    expect(JSON.stringify(status)).not.toMatch(/at-\d|rt-\d/)
    expect(await client.logout(server.mcpUrl)).toEqual({ revoked: true })
    expect(
      server.requests.filter((r) => r.path === '/revoke').map((r) => r.form.get('token_type_hint')),
    ).toEqual(['refresh_token', 'access_token'])
    expect((await client.status(server.mcpUrl)).loggedIn).toBe(false)
    expect(await client.token(server.mcpUrl)).toBeUndefined()
  })

  it('login() authorizes ahead of the first request; token() returns the access token', async () => {
    const server = await fake()
    const client = createMcpAuthClient({ redirect: headlessRedirect(), allowInsecureLoopback: true })
    expect((await client.login(server.mcpUrl)).loggedIn).toBe(true)
    const token = await client.token(server.mcpUrl)
    expect(token?.token_type).toBe('Bearer')
    expect(server.tokens.has(token!.access_token)).toBe(true)
  })
})
