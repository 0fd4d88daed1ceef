import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/protocol/errors.js'
import {
  resourceMatchesForDiscovery,
  validateProtectedResourceMetadata,
} from '../../src/protocol/protected-resource-metadata.js'

// RFC 9728 §3.2, example response.
const RFC9728_EXAMPLE = {
  resource: 'https://resource.example.com',
  authorization_servers: ['https://as1.example.com', 'https://as2.example.net'],
  bearer_methods_supported: ['header', 'body'],
  scopes_supported: ['profile', 'email', 'phone'],
  resource_documentation: 'https://resource.example.com/resource_documentation.html',
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'not a ProtocolError'
  }
  return undefined
}

describe('validateProtectedResourceMetadata', () => {
  it('accepts the RFC 9728 §3.2 example and returns its members', () => {
    const prm = validateProtectedResourceMetadata(structuredClone(RFC9728_EXAMPLE), {
      expectedResource: 'https://resource.example.com',
    })
    expect(prm).toEqual(RFC9728_EXAMPLE)
    expect(prm.authorization_servers?.[1]).toBe('https://as2.example.net')
  })

  it('keeps unknown members and unknown array values', () => {
    const prm = validateProtectedResourceMetadata({
      ...RFC9728_EXAMPLE,
      bearer_methods_supported: ['header', 'carrier-pigeon'],
      x_vendor: { nested: true },
    })
    expect(prm['x_vendor']).toEqual({ nested: true })
    expect(prm.bearer_methods_supported).toEqual(['header', 'carrier-pigeon'])
  })

  it('accepts an empty bearer_methods_supported (RFC 9728 §2: no method supported)', () => {
    expect(
      validateProtectedResourceMetadata({ ...RFC9728_EXAMPLE, bearer_methods_supported: [] }),
    ).toBeDefined()
  })

  it('refuses a resource that is not identical to the expected one (RFC 9728 §3.3)', () => {
    const cases: [string, string][] = [
      ['https://resource.example.com', 'https://resource.example.com/'],
      ['https://resource.example.com', 'https://RESOURCE.example.com'],
      ['https://resource.example.com', 'https://evil.example.com'],
      ['https://resource.example.com', 'https://resource.example.com/mcp'],
    ]
    for (const [published, expected] of cases) {
      expect(
        codeOf(() =>
          validateProtectedResourceMetadata(
            { ...RFC9728_EXAMPLE, resource: published },
            { expectedResource: expected },
          ),
        ),
      ).toBe('ERR_RESOURCE_MISMATCH')
    }
  })

  it('requires a non-empty authorization_servers unless told otherwise (MCP)', () => {
    const { authorization_servers: _, ...without } = RFC9728_EXAMPLE
    expect(codeOf(() => validateProtectedResourceMetadata(without))).toBe('ERR_INVALID_METADATA')
    expect(codeOf(() => validateProtectedResourceMetadata({ ...without, authorization_servers: [] }))).toBe(
      'ERR_INVALID_METADATA',
    )
    expect(validateProtectedResourceMetadata(without, { requireAuthorizationServers: false }).resource).toBe(
      'https://resource.example.com',
    )
  })

  it('refuses malformed documents', () => {
    const bad: unknown[] = [
      null,
      'https://resource.example.com',
      [RFC9728_EXAMPLE],
      { ...RFC9728_EXAMPLE, resource: undefined },
      { ...RFC9728_EXAMPLE, resource: 42 },
      { ...RFC9728_EXAMPLE, resource: '/relative' },
      { ...RFC9728_EXAMPLE, resource: 'https://resource.example.com#frag' },
      { ...RFC9728_EXAMPLE, authorization_servers: 'https://as1.example.com' },
      { ...RFC9728_EXAMPLE, authorization_servers: ['https://as1.example.com', 7] },
      { ...RFC9728_EXAMPLE, authorization_servers: ['javascript:alert(1)'] },
      { ...RFC9728_EXAMPLE, authorization_servers: ['https://as.example.com?tenant=1'] },
      { ...RFC9728_EXAMPLE, scopes_supported: 'profile email' },
      { ...RFC9728_EXAMPLE, dpop_bound_access_tokens_required: 'yes' },
      { ...RFC9728_EXAMPLE, resource_documentation: 'javascript:alert(1)' },
      { ...RFC9728_EXAMPLE, jwks_uri: 'file:///etc/passwd' },
      { ...RFC9728_EXAMPLE, resource_signing_alg_values_supported: ['ES256', 'none'] },
    ]
    for (const doc of bad) {
      expect(
        codeOf(() => validateProtectedResourceMetadata(doc)),
        JSON.stringify(doc),
      ).toBe('ERR_INVALID_METADATA')
    }
  })

  it('never echoes the document in the error message', () => {
    try {
      validateProtectedResourceMetadata(
        { ...RFC9728_EXAMPLE, resource: 'https://secret-host.example/x' },
        {
          expectedResource: 'https://resource.example.com',
        },
      )
      expect.unreachable()
    } catch (error) {
      expect((error as Error).message).not.toContain('secret-host')
    }
  })
})

describe('resourceMatchesForDiscovery', () => {
  it('exact mode compares strings', () => {
    expect(resourceMatchesForDiscovery('https://a.example/mcp', 'https://a.example/mcp', 'exact')).toBe(true)
    expect(resourceMatchesForDiscovery('https://a.example/mcp', 'https://a.example/mcp/', 'exact')).toBe(
      false,
    )
    expect(resourceMatchesForDiscovery('https://a.example', 'https://a.example/mcp', 'exact')).toBe(false)
    expect(resourceMatchesForDiscovery('https://A.example/mcp', 'https://a.example/mcp', 'exact')).toBe(false)
  })

  it('same-origin-prefix mode accepts a whole-segment path prefix on the same origin', () => {
    const m = (prm: string, req: string) => resourceMatchesForDiscovery(prm, req, 'same-origin-prefix')
    expect(m('https://a.example/mcp', 'https://a.example/mcp')).toBe(true)
    expect(m('https://a.example/mcp', 'https://a.example/mcp/x')).toBe(true)
    expect(m('https://a.example', 'https://a.example/mcp')).toBe(true)
    expect(m('https://a.example/', 'https://a.example/mcp')).toBe(true)
    expect(m('https://A.EXAMPLE:443', 'https://a.example/mcp')).toBe(true)
    expect(m('https://a.example/mcp', 'https://a.example/mcpx')).toBe(false)
    expect(m('https://a.example/mcp/x', 'https://a.example/mcp')).toBe(false)
    expect(m('https://a.example/mcp', 'https://a.example/other')).toBe(false)
  })

  it('same-origin-prefix mode never accepts another origin', () => {
    const m = (prm: string, req: string) => resourceMatchesForDiscovery(prm, req, 'same-origin-prefix')
    expect(m('https://evil.example', 'https://a.example/mcp')).toBe(false)
    expect(m('http://a.example', 'https://a.example/mcp')).toBe(false)
    expect(m('https://a.example:8443', 'https://a.example/mcp')).toBe(false)
    expect(m('https://a.example.evil.example', 'https://a.example/mcp')).toBe(false)
    expect(m('https://a.example@evil.example', 'https://a.example/mcp')).toBe(false)
    expect(m('javascript:alert(1)', 'https://a.example/mcp')).toBe(false)
    expect(m('not a url', 'not a url')).toBe(false)
  })
})
