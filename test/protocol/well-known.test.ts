import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/protocol/errors.js'
import {
  authorizationServerMetadataUrl,
  authorizationServerMetadataUrls,
  protectedResourceMetadataUrl,
  protectedResourceMetadataUrls,
} from '../../src/protocol/well-known.js'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'not a ProtocolError'
  }
  return undefined
}

describe('protectedResourceMetadataUrls', () => {
  it('inserts the well-known segment before the path (RFC 9728 §3.1 example)', () => {
    expect(protectedResourceMetadataUrl('https://resource.example.com/resource1')).toBe(
      'https://resource.example.com/.well-known/oauth-protected-resource/resource1',
    )
  })

  it('tries the path-suffixed URL first, then the root', () => {
    expect(protectedResourceMetadataUrls('https://example.com/public/mcp')).toEqual([
      'https://example.com/.well-known/oauth-protected-resource/public/mcp',
      'https://example.com/.well-known/oauth-protected-resource',
    ])
  })

  it('asks once when the resource has no path or only /', () => {
    for (const resource of ['https://mcp.example.com', 'https://mcp.example.com/']) {
      expect(protectedResourceMetadataUrls(resource)).toEqual([
        'https://mcp.example.com/.well-known/oauth-protected-resource',
      ])
    }
  })

  it('removes a terminating slash from the path and keeps the query', () => {
    expect(protectedResourceMetadataUrl('https://example.com/mcp/')).toBe(
      'https://example.com/.well-known/oauth-protected-resource/mcp',
    )
    expect(protectedResourceMetadataUrls('https://example.com/mcp?tenant=a')).toEqual([
      'https://example.com/.well-known/oauth-protected-resource/mcp?tenant=a',
      'https://example.com/.well-known/oauth-protected-resource',
    ])
  })

  it('keeps a non-default port, drops a default one, lower-cases the host', () => {
    expect(protectedResourceMetadataUrl('http://127.0.0.1:8080/mcp')).toBe(
      'http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp',
    )
    expect(protectedResourceMetadataUrl('https://MCP.Example.com:443/mcp')).toBe(
      'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
    )
    expect(protectedResourceMetadataUrl('http://[::1]:3000/mcp')).toBe(
      'http://[::1]:3000/.well-known/oauth-protected-resource/mcp',
    )
  })

  it('refuses what is not an absolute http(s) URL without userinfo or fragment', () => {
    for (const bad of [
      '/mcp',
      'mcp.example.com/mcp',
      'ftp://example.com/mcp',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'https:example.com/mcp',
      'https:///mcp',
      'https://user:pass@example.com/mcp',
      'https://example.com@evil.example/mcp',
      'https://example.com/mcp#frag',
      'https://example.com/mcp#',
      'https://example.com\\@evil.example/mcp',
      ' https://example.com/mcp',
      'https://exa\tmple.com/mcp',
      '',
    ]) {
      expect(
        codeOf(() => protectedResourceMetadataUrls(bad)),
        bad,
      ).toBe('ERR_INVALID_URL')
    }
  })

  it('refuses dot segments, which would move the request to another well-known document', () => {
    // `/.well-known/oauth-protected-resource/../openid-configuration` resolves elsewhere.
    expect(codeOf(() => protectedResourceMetadataUrls('https://example.com/../openid-configuration'))).toBe(
      'ERR_INVALID_URL',
    )
    expect(codeOf(() => protectedResourceMetadataUrls('https://example.com/%2e%2E/x'))).toBe(
      'ERR_INVALID_URL',
    )
  })
})

describe('authorizationServerMetadataUrls', () => {
  it('inserts the well-known segment before the issuer path (RFC 8414 §3.1 example)', () => {
    expect(authorizationServerMetadataUrl('https://example.com/issuer1')).toBe(
      'https://example.com/.well-known/oauth-authorization-server/issuer1',
    )
  })

  it('tries RFC 8414 insertion, OIDC insertion, then OIDC appending for an issuer with a path', () => {
    expect(authorizationServerMetadataUrls('https://auth.example.com/tenant1')).toEqual([
      { url: 'https://auth.example.com/.well-known/oauth-authorization-server/tenant1', kind: 'oauth' },
      { url: 'https://auth.example.com/.well-known/openid-configuration/tenant1', kind: 'oidc' },
      { url: 'https://auth.example.com/tenant1/.well-known/openid-configuration', kind: 'oidc' },
    ])
  })

  it('never offers a root well-known URL for an issuer with a path', () => {
    for (const issuer of [
      'https://auth.example.com/tenant1',
      'https://auth.example.com/a/b/',
      'http://localhost:9000/t',
    ]) {
      const urls = authorizationServerMetadataUrls(issuer).map((c) => new URL(c.url).pathname)
      expect(urls).not.toContain('/.well-known/oauth-authorization-server')
      expect(urls).not.toContain('/.well-known/openid-configuration')
    }
  })

  it('removes a terminating slash of the issuer path', () => {
    expect(authorizationServerMetadataUrls('https://auth.example.com/a/b/')).toEqual([
      { url: 'https://auth.example.com/.well-known/oauth-authorization-server/a/b', kind: 'oauth' },
      { url: 'https://auth.example.com/.well-known/openid-configuration/a/b', kind: 'oidc' },
      { url: 'https://auth.example.com/a/b/.well-known/openid-configuration', kind: 'oidc' },
    ])
  })

  it('uses the root well-knowns for an issuer without a path, without adding a slash', () => {
    const expected = [
      { url: 'https://auth.example.com/.well-known/oauth-authorization-server', kind: 'oauth' },
      { url: 'https://auth.example.com/.well-known/openid-configuration', kind: 'oidc' },
    ]
    expect(authorizationServerMetadataUrls('https://auth.example.com')).toEqual(expected)
    expect(authorizationServerMetadataUrls('https://auth.example.com/')).toEqual(expected)
    expect(authorizationServerMetadataUrl('https://auth.example.com')).toBe(
      'https://auth.example.com/.well-known/oauth-authorization-server',
    )
  })

  it('refuses issuers with a query, fragment, userinfo, or a non-http(s) scheme (RFC 8414 §2)', () => {
    for (const bad of [
      'https://auth.example.com/?tenant=1',
      'https://auth.example.com?x',
      'https://auth.example.com/t#',
      'https://u@auth.example.com',
      'javascript:alert(1)',
      'file:///etc/passwd',
      'auth.example.com',
      '../issuer',
    ]) {
      expect(
        codeOf(() => authorizationServerMetadataUrls(bad)),
        bad,
      ).toBe('ERR_INVALID_URL')
    }
  })
})
