import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { validateProtectedResourceMetadata } from '../../src/protocol/protected-resource-metadata.js'
import { findBearerChallenge, parseWwwAuthenticate } from '../../src/protocol/www-authenticate.js'
import {
  type AuthInfo,
  type HonoAuthVariables,
  honoAuth,
  honoMetadata,
  jwtVerifier,
  type ProtectedResourceOptions,
  protectedResource,
  ResourceServerError,
  toSdkAuthInfo,
  type Verifier,
} from '../../src/resource-server/index.js'
import { createSigner, ISSUER, toolCall } from './support.js'

const RESOURCE = 'https://mcp.example.com/mcp'
const PRM_URL = 'https://mcp.example.com/.well-known/oauth-protected-resource/mcp'
const signer = await createSigner()

function countingVerifier(): Verifier & { calls: number } {
  const inner = jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks })
  const counter = {
    calls: 0,
    maxCacheAgeSeconds: 300,
    async verify(token: string) {
      counter.calls++
      return inner.verify(token)
    },
  }
  return counter
}

function make(overrides: Partial<ProtectedResourceOptions> = {}) {
  return protectedResource({
    resource: RESOURCE,
    authorizationServers: [ISSUER],
    verifier: jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks }),
    scopes: { default: ['files:read'], tools: { delete_file: ['files:write'] } },
    ...overrides,
  })
}

describe('protectedResource: construction fails closed', () => {
  const verifier = jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks })
  const cases: [string, Partial<ProtectedResourceOptions>][] = [
    ['no authorization server', { authorizationServers: [] }],
    ['a resource with a fragment', { resource: 'https://mcp.example.com/mcp#x' }],
    ['a resource not in canonical form', { resource: 'https://MCP.example.com:443/mcp' }],
    ['a plain http resource off loopback', { resource: 'http://mcp.example.com/mcp' }],
    ['offline_access advertised', { scopesSupported: ['files:read', 'offline_access'] }],
    ['offline_access required', { scopes: { default: ['offline_access'] } }],
    ['an invalid scope', { scopes: { default: ['files read'] } }],
    ['an issuer with a query', { authorizationServers: ['https://as.example.com/?x=1'] }],
    ['a missing verifier', { verifier: undefined as unknown as Verifier }],
  ]
  for (const [name, override] of cases) {
    it(`refuses ${name}`, () => {
      expect(() =>
        protectedResource({ resource: RESOURCE, authorizationServers: [ISSUER], verifier, ...override }),
      ).toThrow(ResourceServerError)
    })
  }
})

describe('protectedResource: metadata', () => {
  it('serves RFC 9728 metadata at the path-suffixed well-known URL, and nothing elsewhere', async () => {
    const rs = make({ resourceName: 'Files', resourceDocumentation: 'https://docs.example.com/files' })
    expect(rs.metadataUrl).toBe(PRM_URL)
    const response = await rs.metadata(new Request(PRM_URL))
    expect(response?.status).toBe(200)
    expect(response?.headers.get('content-type')).toBe('application/json')
    expect(response?.headers.get('cache-control')).toBe('public, max-age=3600')
    expect(response?.headers.get('access-control-allow-origin')).toBe('*')
    const doc = validateProtectedResourceMetadata(await response?.json(), { expectedResource: RESOURCE })
    expect(doc).toEqual({
      resource: RESOURCE,
      authorization_servers: [ISSUER],
      bearer_methods_supported: ['header'],
      scopes_supported: ['files:read'],
      resource_name: 'Files',
      resource_documentation: 'https://docs.example.com/files',
    })
    expect(
      await rs.metadata(new Request('https://mcp.example.com/.well-known/oauth-protected-resource')),
    ).toBeUndefined()
    expect(await rs.metadata(new Request(RESOURCE))).toBeUndefined()
  })

  it('serves the root well-known URL only when asked to', async () => {
    const rs = make({ serveRootMetadata: true, metadataCacheControl: 'no-cache' })
    const root = await rs.metadata(
      new Request('https://mcp.example.com/.well-known/oauth-protected-resource'),
    )
    expect(root?.status).toBe(200)
    expect(root?.headers.get('cache-control')).toBe('no-cache')
    expect(((await root!.json()) as { resource: string }).resource).toBe(RESOURCE)
  })

  it('answers the CORS preflight allowing Authorization and MCP-Protocol-Version, and 405 for POST', async () => {
    const rs = make()
    const preflight = await rs.metadata(
      new Request(PRM_URL, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-headers': 'mcp-protocol-version' },
      }),
    )
    expect(preflight?.status).toBe(204)
    expect(preflight?.headers.get('access-control-allow-headers')).toMatch(/MCP-Protocol-Version/)
    expect(preflight?.headers.get('access-control-allow-headers')).toMatch(/Authorization/)
    const post = await rs.metadata(new Request(PRM_URL, { method: 'POST', body: '{}' }))
    expect(post?.status).toBe(405)
    const head = await rs.metadata(new Request(PRM_URL, { method: 'HEAD' }))
    expect(head?.status).toBe(200)
    expect(await head?.text()).toBe('')
  })

  it('builds the path-suffixed URL for a root resource and a resource with a query', async () => {
    const root = make({ resource: 'https://mcp.example.com' })
    expect(root.metadataUrl).toBe('https://mcp.example.com/.well-known/oauth-protected-resource')
    expect((await root.metadata(new Request(root.metadataUrl)))?.status).toBe(200)
  })
})

describe('protectedResource: authenticate', () => {
  it('returns the AuthInfo of a valid token, with subject, client, scopes, expiry, audience and claims', async () => {
    const rs = make()
    const token = await signer.sign({ aud: RESOURCE, sub: 'alice', scope: 'files:read extra' })
    const auth = (await rs.authenticate(
      new Request(RESOURCE, { method: 'POST', headers: { authorization: `bearer ${token}` }, body: '{}' }),
    )) as AuthInfo
    expect(auth).not.toBeInstanceOf(Response)
    expect(auth.subject).toBe('alice')
    expect(auth.clientId).toBe('client-1')
    expect(auth.scopes).toEqual(['files:read', 'extra'])
    expect(auth.audience).toEqual([RESOURCE])
    expect(auth.issuer).toBe(ISSUER)
    expect(auth.resource).toBe(RESOURCE)
    expect(auth.token).toBe(token)
    expect(typeof auth.expiresAt).toBe('number')
    expect(auth.claims['jti']).toBeTypeOf('string')
  })

  it('asks for the scopes of the operation when there is no token (401 without error)', async () => {
    const rs = make()
    const response = (await rs.authenticate(
      new Request(RESOURCE, { method: 'POST', body: JSON.stringify(toolCall('delete_file')) }),
    )) as Response
    expect(response.status).toBe(401)
    const challenge = findBearerChallenge(parseWwwAuthenticate(response.headers))
    expect(challenge).toMatchObject({ scope: 'files:read files:write', resource_metadata: PRM_URL })
    expect(challenge?.error).toBeUndefined()
  })

  it('verifies a hot token once (verified-token cache) and again after the cache bound', async () => {
    let clock = Date.now()
    const verifier = countingVerifier()
    const rs = make({ verifier, cache: { maxAgeSeconds: 60 }, now: () => clock })
    const token = await signer.sign({ aud: RESOURCE })
    for (let i = 0; i < 5; i++) {
      expect(
        await rs.authenticate(new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } })),
      ).not.toBeInstanceOf(Response)
    }
    expect(verifier.calls).toBe(1)
    clock += 61_000
    await rs.authenticate(new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } }))
    expect(verifier.calls).toBe(2)
  })

  it('never serves a cached token past its exp', async () => {
    let clock = Date.now()
    const rs = make({ cache: { maxAgeSeconds: 3600 }, now: () => clock })
    const token = await signer.sign({ aud: RESOURCE, exp: Math.floor(clock / 1000) + 30 })
    const request = () => new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } })
    expect(await rs.authenticate(request())).not.toBeInstanceOf(Response)
    clock += 31_000
    expect(((await rs.authenticate(request())) as Response).status).toBe(401)
  })

  it('verifies every request when the cache is off', async () => {
    const verifier = countingVerifier()
    const rs = make({ verifier, cache: false })
    const token = await signer.sign({ aud: RESOURCE })
    for (let i = 0; i < 3; i++)
      await rs.authenticate(new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } }))
    expect(verifier.calls).toBe(3)
  })

  it('leaves the body readable for the MCP handler behind', async () => {
    const rs = make()
    const token = await signer.sign({ aud: RESOURCE })
    const body = JSON.stringify(toolCall('read_file', 42))
    const request = new Request(RESOURCE, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    })
    expect(await rs.authenticate(request)).not.toBeInstanceOf(Response)
    expect(await request.text()).toBe(body)
  })

  it('answers 503, not 401, when the verifier cannot reach its keys', async () => {
    const rs = make({
      verifier: jwtVerifier({
        issuer: ISSUER,
        audience: RESOURCE,
        jwksUri: 'http://127.0.0.1:9/jwks',
        fetchTimeoutMs: 500,
      }),
    })
    const token = await signer.sign({ aud: RESOURCE })
    const response = (await rs.authenticate(
      new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } }),
    )) as Response
    expect(response.status).toBe(503)
    expect(response.headers.get('www-authenticate')).toBeNull()
  })

  it('converts to the SDK AuthInfo shape', async () => {
    const rs = make()
    const token = await signer.sign({ aud: RESOURCE, sub: 'alice' })
    const auth = (await rs.authenticate(
      new Request(RESOURCE, { headers: { authorization: `Bearer ${token}` } }),
    )) as AuthInfo
    const sdk = toSdkAuthInfo(auth, { resourceMetadataUrl: rs.metadataUrl })
    expect(sdk.token).toBe(token)
    expect(sdk.clientId).toBe('client-1')
    expect(sdk.resource?.href).toBe(RESOURCE)
    expect(sdk.expiresAt).toBe(auth.expiresAt)
    expect(sdk.resourceMetadataUrl).toBe(PRM_URL)
    expect(sdk.extra?.['subject']).toBe('alice')
  })
})

describe('Hono middleware', () => {
  it('serves metadata, sets c.get("auth") and refuses without a token', async () => {
    const rs = make()
    const app = new Hono<{ Variables: HonoAuthVariables }>()
    app.use(honoMetadata(rs))
    app.post('/mcp', honoAuth(rs), async (c) =>
      c.json({ sub: c.get('auth').subject, body: await c.req.json() }),
    )
    expect((await app.request(PRM_URL)).status).toBe(200)
    expect((await app.request(RESOURCE, { method: 'POST', body: '{}' })).status).toBe(401)
    const token = await signer.sign({ aud: RESOURCE, sub: 'carol' })
    const ok = await app.request(RESOURCE, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(toolCall('read_file')),
    })
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ sub: 'carol', body: toolCall('read_file') })
  })
})
