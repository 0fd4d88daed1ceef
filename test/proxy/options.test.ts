/**
 * Configuration of the proxy: presets (configuration only, nothing contacted), fail-closed
 * validation, the binding cookie's attributes, and the identity steps on their own.
 */
import { describe, expect, it } from 'vitest'
import { createBindingCookie } from '../../src/proxy/binding-cookie.js'
import { processUserInfoResponse } from '../../src/proxy/identity.js'
import { createOAuthProxy, github, google, oidc, ProxyError } from '../../src/proxy/index.js'
import { explicitUpstreamMetadata } from '../../src/proxy/upstream-metadata.js'
import { resolveUpstream, type UpstreamOptions } from '../../src/proxy/upstream-options.js'
import { createMemoryStore } from '../../src/storage/index.js'

const CREDENTIALS = { clientId: 'upstream-client-id', clientSecret: 'upstream-client-secret-value' }

function refusesToFetch(): (input: string) => Promise<Response> {
  return async (input) => {
    throw new Error(`unexpected fetch of ${input}`)
  }
}

describe('presets', () => {
  it('GitHub: explicit endpoints, userinfo identity by numeric id, no RFC 9207 iss, no revocation endpoint', () => {
    const upstream = resolveUpstream(github(CREDENTIALS))
    expect(upstream.endpoints).toEqual({
      authorization: 'https://github.com/login/oauth/authorize',
      token: 'https://github.com/login/oauth/access_token',
      userinfo: 'https://api.github.com/user',
    })
    expect(upstream.identity).toEqual({ from: 'userinfo', subjectClaim: 'id', nameClaim: 'login' })
    const metadata = explicitUpstreamMetadata(upstream)!
    expect(metadata.authorization_response_iss_parameter_supported).toBe(false)
    expect(metadata.revocation_endpoint).toBeUndefined()
    expect(metadata.issuer).toBe('https://github.com')
  })

  it('Google: discovered from https://accounts.google.com, ID Token identity, offline access with consent', () => {
    const upstream = resolveUpstream(google(CREDENTIALS))
    expect(upstream.issuer).toBe('https://accounts.google.com')
    expect(upstream.endpoints).toBeUndefined()
    expect(upstream.identity).toEqual({ from: 'id_token' })
    expect(upstream.scopes).toContain('openid')
    expect(upstream.authorizationParams).toEqual({ access_type: 'offline', prompt: 'consent' })
  })

  it('generic OIDC: any issuer, discovered', () => {
    const upstream = resolveUpstream(
      oidc({ ...CREDENTIALS, name: 'Keycloak', issuer: 'https://id.example.com/realms/a' }),
    )
    expect(upstream.name).toBe('Keycloak')
    expect(upstream.endpoints).toBeUndefined()
    expect(upstream.identity.from).toBe('id_token')
  })

  it('constructing a proxy with a preset contacts nobody', async () => {
    const store = await createMemoryStore({ encryptionKey: 'k'.repeat(43) })
    for (const preset of [github, google]) {
      const proxy = createOAuthProxy({
        issuer: 'https://mcp.example.com',
        store,
        resources: [{ uri: 'https://mcp.example.com/mcp', scopes: { 'mcp:tools': 'Tools' } }],
        cookieSecret: 'c'.repeat(40),
        upstream: { ...preset(CREDENTIALS), fetch: refusesToFetch() },
        onAudit: () => {},
      })
      expect(proxy.callbackUrl).toBe('https://mcp.example.com/upstream/callback')
      expect(JSON.stringify(proxy.metadata())).not.toContain(CREDENTIALS.clientSecret)
      expect(JSON.stringify(proxy.metadata())).not.toContain(CREDENTIALS.clientId)
    }
  })
})

describe('fail-closed configuration', () => {
  const base: UpstreamOptions = {
    name: 'IdP',
    issuer: 'https://idp.example.com',
    clientId: 'id',
    clientSecret: 'secret',
    scopes: ['openid'],
    identity: { from: 'id_token' },
  }

  it.each([
    ['no client secret', { clientSecret: '' }],
    ['no client id', { clientId: '' }],
    ['an http issuer', { issuer: 'http://idp.example.com' }],
    ['an http loopback issuer without allowInsecureLoopback', { issuer: 'http://127.0.0.1:9999' }],
    ['an ID Token identity without openid', { scopes: ['email'] }],
    [
      'userinfo identity with endpoints but no userinfo endpoint',
      {
        identity: { from: 'userinfo' as const },
        endpoints: { authorization: 'https://a/x', token: 'https://a/t' },
      },
    ],
    [
      'an http token endpoint',
      {
        identity: { from: 'userinfo' as const },
        endpoints: { authorization: 'https://a/x', token: 'http://a/t', userinfo: 'https://a/u' },
      },
    ],
    ['authorizationParams overriding state', { authorizationParams: { state: 'fixed' } }],
    [
      'authorizationParams overriding redirect_uri',
      { authorizationParams: { redirect_uri: 'https://evil.example' } },
    ],
    ['a callback path with ..', { callbackPath: '/../x' }],
  ])('refuses %s', (_name, patch) => {
    expect(() => resolveUpstream({ ...base, ...patch } as UpstreamOptions)).toThrow(ProxyError)
  })

  it('accepts http loopback only with allowInsecureLoopback', () => {
    expect(
      resolveUpstream({ ...base, issuer: 'http://127.0.0.1:9999', allowInsecureLoopback: true }).issuer,
    ).toBe('http://127.0.0.1:9999')
  })

  it('refuses a login option: users sign in upstream', async () => {
    const store = await createMemoryStore({ encryptionKey: 'k'.repeat(43) })
    expect(() =>
      createOAuthProxy({
        issuer: 'https://mcp.example.com',
        store,
        resources: [{ uri: 'https://mcp.example.com/mcp', scopes: {} }],
        cookieSecret: 'c'.repeat(40),
        upstream: base,
        login: { currentUser: async () => undefined },
      } as never),
    ).toThrow(ProxyError)
  })
})

describe('binding cookie', () => {
  it('is HttpOnly, SameSite=Lax, __Host- and Secure behind https, short-lived, and bound to its transaction', async () => {
    const binding = createBindingCookie({ secret: 's'.repeat(40), secure: true })
    const { setCookie, digest } = await binding.bind('transaction-key-one', 600)
    expect(setCookie).toMatch(/^__Host-portcullis_upstream_transactionkeyon=/)
    expect(setCookie).toMatch(/HttpOnly/i)
    expect(setCookie).toMatch(/SameSite=Lax/i)
    expect(setCookie).toMatch(/Secure/i)
    expect(setCookie).toMatch(/Path=\//i)
    expect(setCookie).toMatch(/Max-Age=600/i)
    const cookie = setCookie.split(';')[0]!
    const request = (c: string) =>
      new Request('https://p.example/upstream/callback', { headers: { cookie: c } })
    expect(await binding.verify(request(cookie), 'transaction-key-one', digest)).toBe(true)
    // Another transaction, a tampered MAC, another digest, no cookie: all refused.
    expect(await binding.verify(request(cookie), 'transaction-key-two', digest)).toBe(false)
    expect(await binding.verify(request(`${cookie.slice(0, -2)}AA`), 'transaction-key-one', digest)).toBe(
      false,
    )
    expect(await binding.verify(request(cookie), 'transaction-key-one', 'x'.repeat(43))).toBe(false)
    expect(await binding.verify(new Request('https://p.example/'), 'transaction-key-one', digest)).toBe(false)
    // A cookie signed with another secret is refused.
    const other = createBindingCookie({ secret: 'o'.repeat(40), secure: true })
    const foreign = await other.bind('transaction-key-one', 600)
    expect(
      await binding.verify(request(foreign.setCookie.split(';')[0]!), 'transaction-key-one', foreign.digest),
    ).toBe(false)
    expect(binding.clear('transaction-key-one')).toMatch(/Max-Age=0/i)
  })

  it('drops the prefix and Secure on plain http (loopback development)', async () => {
    const { setCookie } = await createBindingCookie({ secret: 's'.repeat(40), secure: false }).bind('k', 600)
    expect(setCookie).toMatch(/^portcullis_upstream_k=/)
    expect(setCookie).not.toMatch(/Secure/i)
  })
})

describe('userinfo identity', () => {
  it('reads GitHub /user: numeric id as the subject, login as the name', async () => {
    const upstream = resolveUpstream(github(CREDENTIALS))
    const identity = await processUserInfoResponse(
      upstream,
      'https://github.com',
      Response.json({ login: 'octocat', id: 583231, name: 'The Octocat' }),
    )
    expect(identity).toEqual({ issuer: 'https://github.com', subject: '583231', name: 'octocat' })
  })

  it('refuses an answer without a subject, an error status, or a non-object', async () => {
    const upstream = resolveUpstream(github(CREDENTIALS))
    for (const response of [
      Response.json({ login: 'x' }),
      new Response('{}', { status: 401 }),
      Response.json([1]),
      new Response('nope'),
    ]) {
      await expect(processUserInfoResponse(upstream, 'https://github.com', response)).rejects.toMatchObject({
        code: 'ERR_UPSTREAM_IDENTITY',
      })
    }
  })
})
