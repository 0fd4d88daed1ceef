import { describe, expect, it } from 'vitest'
import {
  discoverAuthorizationServer,
  discoverProtectedResource,
  legacyAuthorizationServerMetadata,
  protectedResourceMetadataCandidates,
} from '../../src/client/index.js'

type Routes = Record<string, unknown>

/** A fetch over a fixed table: JSON for known URLs, 404 otherwise. Records every URL asked for. */
function tableFetch(routes: Routes): typeof fetch & { seen: string[] } {
  const seen: string[] = []
  const fn = (async (input: string | URL | Request) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
    seen.push(url)
    if (!(url in routes)) return new Response('not found', { status: 404 })
    const value = routes[url]
    if (value instanceof Response) return value
    return new Response(JSON.stringify(value), {
      status: 200,
      headers: { 'content-type': 'application/json' },
    })
  }) as typeof fetch & { seen: string[] }
  fn.seen = seen
  return fn
}

const policy = { allowInsecureLoopback: false }
const asMeta = (issuer: string, extra: Record<string, unknown> = {}) => ({
  issuer,
  authorization_endpoint: `${issuer}/authorize`,
  token_endpoint: `${issuer}/token`,
  response_types_supported: ['code'],
  code_challenge_methods_supported: ['S256'],
  ...extra,
})

describe('protected resource metadata discovery (RFC 9728 §3, MCP)', () => {
  it('orders challenge URL, path-suffixed, root', () => {
    expect(
      protectedResourceMetadataCandidates(
        'https://h.example/public/mcp',
        'https://h.example/custom.json',
        policy,
      ).map((c) => c.url),
    ).toEqual([
      'https://h.example/custom.json',
      'https://h.example/.well-known/oauth-protected-resource/public/mcp',
      'https://h.example/.well-known/oauth-protected-resource',
    ])
    expect(
      protectedResourceMetadataCandidates('https://h.example/', undefined, policy).map((c) => c.url),
    ).toEqual(['https://h.example/.well-known/oauth-protected-resource'])
  })

  it('stops at the first document and never asks the root after the path-suffixed one answered', async () => {
    const fetch = tableFetch({
      'https://h.example/.well-known/oauth-protected-resource/mcp': {
        resource: 'https://h.example/mcp',
        authorization_servers: ['https://as.example'],
      },
    })
    const found = await discoverProtectedResource('https://h.example/mcp', {
      fetch,
      policy,
      resourceCheck: 'exact',
    })
    expect(found?.metadata.resource).toBe('https://h.example/mcp')
    expect(fetch.seen).toEqual(['https://h.example/.well-known/oauth-protected-resource/mcp'])
  })

  it('falls back to the root document, whose resource is the origin, and keeps it verbatim', async () => {
    const fetch = tableFetch({
      'https://h.example/.well-known/oauth-protected-resource': {
        resource: 'https://h.example',
        authorization_servers: ['https://as.example'],
      },
    })
    for (const resourceCheck of ['exact', 'same-origin-prefix'] as const) {
      const found = await discoverProtectedResource('https://h.example/mcp', { fetch, policy, resourceCheck })
      expect(found?.metadata.resource).toBe('https://h.example')
    }
  })

  it('same-origin-prefix accepts a parent path; exact does not', async () => {
    const fetch = tableFetch({
      'https://h.example/.well-known/oauth-protected-resource/api/mcp': {
        resource: 'https://h.example/api',
        authorization_servers: ['https://as.example'],
      },
    })
    const options = { fetch, policy }
    expect(
      (
        await discoverProtectedResource('https://h.example/api/mcp', {
          ...options,
          resourceCheck: 'same-origin-prefix',
        })
      )?.metadata.resource,
    ).toBe('https://h.example/api')
    await expect(
      discoverProtectedResource('https://h.example/api/mcp', { ...options, resourceCheck: 'exact' }),
    ).rejects.toMatchObject({ code: 'ERR_RESOURCE_MISMATCH' })
  })

  it('refuses a document for another origin in every mode', async () => {
    const fetch = tableFetch({
      'https://h.example/prm': {
        resource: 'https://evil.example/mcp',
        authorization_servers: ['https://as.example'],
      },
    })
    await expect(
      discoverProtectedResource('https://h.example/mcp', {
        fetch,
        policy,
        resourceCheck: 'same-origin-prefix',
        challengeUrl: 'https://h.example/prm',
      }),
    ).rejects.toMatchObject({ code: 'ERR_RESOURCE_MISMATCH' })
  })

  it('returns undefined when no location has a document (a 2025-03-26 server)', async () => {
    const fetch = tableFetch({})
    expect(
      await discoverProtectedResource('https://h.example/mcp', { fetch, policy, resourceCheck: 'exact' }),
    ).toBeUndefined()
  })

  it('refuses a non-https challenge URL before fetching it', async () => {
    const fetch = tableFetch({})
    await expect(
      discoverProtectedResource('https://h.example/mcp', {
        fetch,
        policy,
        resourceCheck: 'exact',
        challengeUrl: 'http://169.254.169.254/latest/meta-data',
      }),
    ).rejects.toMatchObject({ code: 'ERR_INSECURE_URL' })
    expect(fetch.seen).toEqual([])
  })
})

describe('authorization server metadata discovery (RFC 8414 §3, OIDC Discovery §4)', () => {
  it('for an issuer with a path: OAuth insertion, OIDC insertion, OIDC appending; never the root', async () => {
    const fetch = tableFetch({})
    expect(await discoverAuthorizationServer('https://as.example/tenant1', { fetch, policy })).toBeUndefined()
    expect(fetch.seen).toEqual([
      'https://as.example/.well-known/oauth-authorization-server/tenant1',
      'https://as.example/.well-known/openid-configuration/tenant1',
      'https://as.example/tenant1/.well-known/openid-configuration',
    ])
  })

  it('for an issuer without a path: OAuth, then OIDC', async () => {
    const fetch = tableFetch({
      'https://as.example/.well-known/openid-configuration': asMeta('https://as.example'),
    })
    const found = await discoverAuthorizationServer('https://as.example', { fetch, policy })
    expect(found?.kind).toBe('oidc')
    expect(fetch.seen).toEqual([
      'https://as.example/.well-known/oauth-authorization-server',
      'https://as.example/.well-known/openid-configuration',
    ])
  })

  it('refuses metadata naming another issuer, even by a trailing slash', async () => {
    for (const claimed of ['https://honest.example', 'https://as.example/']) {
      const fetch = tableFetch({
        'https://as.example/.well-known/oauth-authorization-server': asMeta(claimed),
      })
      await expect(
        discoverAuthorizationServer('https://as.example', { fetch, policy }),
      ).rejects.toMatchObject({
        code: 'ERR_ISSUER_MISMATCH',
      })
    }
  })

  it('refuses a server without PKCE S256 for the code flow, and accepts it for other grants', async () => {
    const fetch = tableFetch({
      'https://as.example/.well-known/oauth-authorization-server': asMeta('https://as.example', {
        code_challenge_methods_supported: ['plain'],
      }),
    })
    await expect(discoverAuthorizationServer('https://as.example', { fetch, policy })).rejects.toMatchObject({
      code: 'ERR_PKCE_UNSUPPORTED',
    })
    expect(
      await discoverAuthorizationServer('https://as.example', { fetch, policy, requirePkce: false }),
    ).toBeDefined()
  })

  it('refuses endpoints without TLS, and accepts loopback http only when allowed', async () => {
    const loopback = tableFetch({
      'http://127.0.0.1:8080/.well-known/oauth-authorization-server': asMeta('http://127.0.0.1:8080'),
    })
    await expect(
      discoverAuthorizationServer('http://127.0.0.1:8080', { fetch: loopback, policy }),
    ).rejects.toMatchObject({
      code: 'ERR_INSECURE_URL',
    })
    expect(loopback.seen).toEqual([])
    expect(
      await discoverAuthorizationServer('http://127.0.0.1:8080', {
        fetch: loopback,
        policy: { allowInsecureLoopback: true },
      }),
    ).toBeDefined()
    const mixed = tableFetch({
      'https://as.example/.well-known/oauth-authorization-server': asMeta('https://as.example', {
        token_endpoint: 'http://as.example/token',
      }),
    })
    await expect(
      discoverAuthorizationServer('https://as.example', { fetch: mixed, policy }),
    ).rejects.toMatchObject({
      code: 'ERR_INSECURE_URL',
    })
  })

  it('legacy defaults sit at the origin', () => {
    expect(legacyAuthorizationServerMetadata('https://mcp.example')).toMatchObject({
      issuer: 'https://mcp.example',
      authorization_endpoint: 'https://mcp.example/authorize',
      token_endpoint: 'https://mcp.example/token',
      registration_endpoint: 'https://mcp.example/register',
    })
  })
})
