import { describe, expect, it } from 'vitest'
import { ClientError } from '../../../src/client/index.js'
import { createNodeMcpAuthClient, createSafeFetch, NetworkPolicyError } from '../../../src/node/index.js'

/**
 * S23: metadata that points at private addresses is refused by the SSRF-safe fetch, with an
 * injected resolver, before any connection: the injected connector records attempts and must
 * see none. No packet leaves the machine.
 */
describe('S23: discovery through the SSRF-safe fetch', () => {
  function mcpServer(prmUrl: string): typeof fetch {
    // The MCP server itself (trusted transport, a stub): answers 401 pointing at prmUrl.
    return (async () =>
      new Response(null, {
        status: 401,
        headers: { 'www-authenticate': `Bearer resource_metadata="${prmUrl}"` },
      })) as typeof fetch
  }

  it.each([
    ['a name resolving to a private address', 'https://metadata.attacker.example/prm', '10.0.0.7'],
    [
      'a name resolving to the cloud metadata address',
      'https://rebind.attacker.example/prm',
      '169.254.169.254',
    ],
    ['an IPv4-mapped IPv6 loopback literal', 'https://[::ffff:127.0.0.1]/prm', undefined],
    ['a decimal IPv4 literal', 'https://2130706433/prm', undefined],
  ])('refuses %s', async (_name, prmUrl, address) => {
    const connects: unknown[] = []
    const client = createNodeMcpAuthClient({
      fetch: mcpServer(prmUrl),
      redirect: { start: async () => Promise.reject(new Error('must not be reached')) },
      safeFetch: {
        lookup: async () =>
          address === undefined ? [] : [{ address, family: address.includes(':') ? 6 : 4 }],
        connect: (target) => {
          connects.push(target)
          throw new Error('no connection may be attempted')
        },
      },
    })
    const error = await client
      .fetch('https://mcp.example/mcp', { method: 'POST', body: '{}' })
      .catch((e: unknown) => e)
    expect(error instanceof NetworkPolicyError || error instanceof ClientError).toBe(true)
    if (error instanceof NetworkPolicyError) {
      expect(['ERR_ADDRESS_NOT_ALLOWED', 'ERR_INVALID_URL', 'ERR_SCHEME_NOT_ALLOWED']).toContain(error.code)
    }
    expect(connects).toEqual([])
  })

  /**
   * The documents a hostile resource serves from a public host (answered from a table here), with
   * every other URL going through the real safe fetch, whose resolver maps names to private
   * addresses and whose connector refuses to connect.
   */
  function hostileDiscovery(table: Record<string, unknown>) {
    const connects: unknown[] = []
    const safe = createSafeFetch({
      lookup: async () => [{ address: '10.1.2.3', family: 4 }],
      connect: (target) => {
        connects.push(target)
        throw new Error('no connection may be attempted')
      },
    })
    const oauthFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      if (url in table) {
        return new Response(JSON.stringify(table[url]), {
          status: 200,
          headers: { 'content-type': 'application/json' },
        })
      }
      return safe(input, init)
    }) as typeof fetch
    return { connects, oauthFetch }
  }

  it('refuses an authorization server listed at a private address', async () => {
    const prm = 'https://mcp.example/.well-known/oauth-protected-resource/mcp'
    const { connects, oauthFetch } = hostileDiscovery({
      [prm]: { resource: 'https://mcp.example/mcp', authorization_servers: ['https://as.internal.example'] },
    })
    const client = createNodeMcpAuthClient({
      fetch: mcpServer(prm),
      oauthFetch,
      redirect: { start: async () => Promise.reject(new Error('must not be reached')) },
    })
    const error = await client
      .fetch('https://mcp.example/mcp', { method: 'POST', body: '{}' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(NetworkPolicyError)
    expect((error as NetworkPolicyError).code).toBe('ERR_ADDRESS_NOT_ALLOWED')
    expect(connects).toEqual([])
  })

  it('refuses metadata whose registration endpoint is a private address', async () => {
    const prm = 'https://mcp.example/.well-known/oauth-protected-resource/mcp'
    const issuer = 'https://as.example'
    const { connects, oauthFetch } = hostileDiscovery({
      [prm]: { resource: 'https://mcp.example/mcp', authorization_servers: [issuer] },
      [`${issuer}/.well-known/oauth-authorization-server`]: {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        registration_endpoint: 'https://10.0.0.5/register',
        response_types_supported: ['code'],
        code_challenge_methods_supported: ['S256'],
      },
    })
    const client = createNodeMcpAuthClient({
      fetch: mcpServer(prm),
      oauthFetch,
      redirect: {
        start: async () => ({
          redirectUri: 'http://127.0.0.1:9/callback',
          authorize: async () => Promise.reject(new Error('must not be reached')),
          close: async () => {},
        }),
      },
    })
    const error = await client
      .fetch('https://mcp.example/mcp', { method: 'POST', body: '{}' })
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ClientError)
    expect((error as ClientError).code).toBe('ERR_REGISTRATION')
    expect(((error as ClientError).cause as NetworkPolicyError).code).toBe('ERR_ADDRESS_NOT_ALLOWED')
    expect(connects).toEqual([])
  })
})
