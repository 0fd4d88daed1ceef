import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/protocol/errors.js'
import { audienceMatches, canonicalResource, isLoopbackHost } from '../../src/protocol/resource.js'

function refusal(input: string): ProtocolError {
  try {
    canonicalResource(input)
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError)
    return error as ProtocolError
  }
  throw new Error(`accepted ${JSON.stringify(input)}`)
}

describe('canonicalResource', () => {
  // spec-requirements.md §2.9; the fragment row is refused (RFC 8707 §2 MUST NOT), not stripped.
  it.each([
    ['https://mcp.example.com/', 'https://mcp.example.com'],
    ['https://mcp.example.com', 'https://mcp.example.com'],
    ['https://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com:8443', 'https://mcp.example.com:8443'],
    ['https://mcp.example.com:8443/', 'https://mcp.example.com:8443'],
    ['https://MCP.Example.com/mcp', 'https://mcp.example.com/mcp'],
    ['HTTPS://MCP.EXAMPLE.COM/mcp', 'https://mcp.example.com/mcp'],
    ['http://localhost:80/mcp', 'http://localhost/mcp'],
    ['http://localhost:443/mcp', 'http://localhost:443/mcp'],
    ['https://mcp.example.com:80/mcp', 'https://mcp.example.com:80/mcp'],
    ['https://mcp.example.com/server/mcp', 'https://mcp.example.com/server/mcp'],
    ['https://mcp.example.com/mcp/', 'https://mcp.example.com/mcp/'],
    ['https://mcp.example.com/MCP', 'https://mcp.example.com/MCP'],
    ['https://mcp.example.com/a%2Fb%7e', 'https://mcp.example.com/a%2Fb%7e'],
    ['https://mcp.example.com/mcp?tenant=A', 'https://mcp.example.com/mcp?tenant=A'],
    ['https://mcp.example.com/?tenant=A', 'https://mcp.example.com?tenant=A'],
    ['https://[::1]:443/mcp', 'https://[::1]/mcp'],
    ['http://[0:0:0:0:0:0:0:1]:8080/', 'http://[::1]:8080'],
    ['https://bücher.example/mcp', 'https://xn--bcher-kva.example/mcp'],
  ])('%s → %s', (input, expected) => {
    expect(canonicalResource(input)).toBe(expected)
  })

  it.each([
    ['https://MCP.Example.com/mcp#x', 'fragment'],
    ['https://mcp.example.com/mcp#', 'fragment'],
    ['mcp.example.com', 'absolute'],
    ['/mcp', 'absolute'],
    ['', 'string'],
    ['ftp://mcp.example.com/mcp', 'scheme'],
    ['javascript://mcp.example.com/%0aalert(1)', 'scheme'],
    ['https:mcp.example.com/mcp', 'host'],
    ['https:///mcp.example.com/mcp', 'host'],
    ['https://user:pass@mcp.example.com/mcp', 'userinfo'],
    ['https://mcp.example.com@evil.example/mcp', 'userinfo'],
    [' https://mcp.example.com/mcp', 'whitespace'],
    ['https://mcp.example.com/mcp\n', 'whitespace'],
    ['https://mcp.exa\tmple.com/mcp', 'whitespace'],
    ['https://mcp.example.com\\@evil.example/mcp', 'backslash'],
    ['https://mcp.example.com/a/../mcp', 'dot segments'],
    ['https://mcp.example.com/a/%2E%2e/mcp', 'dot segments'],
    ['https://mcp.example.com/./mcp', 'dot segments'],
    ['https://mcp.example.com/m<c>p', 'RFC 3986'],
    ['https://mcp.example.com/é', 'RFC 3986'],
    ['https://mcp.example.com/%zz', 'RFC 3986'],
    ['https://mcp.example.com:99999/mcp', 'valid URL'],
    ['https://[::1/mcp', 'valid URL'],
  ])('refuses %j (%s)', (input, reason) => {
    const error = refusal(input)
    expect(error.code).toBe('ERR_INVALID_RESOURCE')
    expect(error.message).toContain(reason)
  })

  it('never puts the input in the error message', () => {
    const error = refusal('https://mcp.example.com/mcp?token=s3cr3t-value#frag')
    expect(error.message).not.toContain('s3cr3t-value')
    expect(error.detail).toBeUndefined()
  })

  it('throws a ProtocolError, not a TypeError, for non-strings', () => {
    expect(() => canonicalResource(undefined as unknown as string)).toThrow(ProtocolError)
    expect(() => canonicalResource(42 as unknown as string)).toThrow(ProtocolError)
  })

  it('is idempotent on fc.webUrl()', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true }), (url) => {
        let once: string
        try {
          once = canonicalResource(url)
        } catch (error) {
          // The only generated refusals are dot segments, which fast-check's paths may contain.
          return error instanceof ProtocolError && /dot segments/.test(error.message)
        }
        return canonicalResource(once) === once && audienceMatches(once, url) && audienceMatches([url], once)
      }),
      { numRuns: 500 },
    )
  })

  const variant = fc
    .record({
      https: fc.boolean(),
      host: fc.domain(),
      port: fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
      segments: fc.array(fc.stringMatching(/^[A-Za-z0-9_~-]{1,8}$/), { maxLength: 3 }),
      trailingSlash: fc.boolean(),
      upper: fc.array(fc.boolean(), { minLength: 64, maxLength: 64 }),
      spellDefaultPort: fc.boolean(),
    })
    .map((v) => {
      const scheme = v.https ? 'https' : 'http'
      const flip = (text: string, offset: number): string =>
        [...text].map((c, i) => (v.upper[(i + offset) % 64] ? c.toUpperCase() : c)).join('')
      const path = v.segments.length === 0 ? (v.trailingSlash ? '/' : '') : `/${v.segments.join('/')}`
      const defaultPort = v.https ? 443 : 80
      const port = v.port !== undefined ? `:${v.port}` : v.spellDefaultPort ? `:${defaultPort}` : ''
      const canonicalPort = v.port !== undefined && v.port !== defaultPort ? `:${v.port}` : ''
      return {
        input: `${flip(scheme, 0)}://${flip(v.host, 7)}${port}${path}`,
        expected: `${scheme}://${v.host}${canonicalPort}${path === '/' ? '' : path}`,
      }
    })

  it('lower-cases scheme and host, drops default ports and the root slash, and nothing else', () => {
    fc.assert(
      fc.property(variant, ({ input, expected }) => {
        const once = canonicalResource(input)
        expect(once).toBe(expected)
        expect(canonicalResource(once)).toBe(once)
        expect(audienceMatches(expected, input)).toBe(true)
      }),
      { numRuns: 500 },
    )
  })
})

describe('audienceMatches', () => {
  it.each<[string | string[], string]>([
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/mcp'],
    ['https://MCP.example.COM/mcp', 'https://mcp.example.com/mcp'],
    ['HTTPS://mcp.example.com:443/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/', 'https://mcp.example.com'],
    ['https://mcp.example.com', 'https://mcp.example.com/'],
    [['https://other.example', 'https://mcp.example.com/mcp'], 'https://mcp.example.com/mcp'],
    [['not a uri', 'https://mcp.example.com/mcp'], 'https://mcp.example.com/mcp'],
  ])('%j matches %s', (aud, resource) => {
    expect(audienceMatches(aud, resource)).toBe(true)
  })

  it.each<[string | string[] | undefined, string]>([
    ['https://mcp.example.com/MCP', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/mcp2', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/mcp/other', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/mcp/', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com:8443/mcp', 'https://mcp.example.com/mcp'],
    ['http://mcp.example.com/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com.evil.example/mcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/mcp#x', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/mcp?x=1', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/%6dcp', 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/a/../mcp', 'https://mcp.example.com/mcp'],
    ['https://evil@mcp.example.com/mcp', 'https://mcp.example.com/mcp'],
    [[], 'https://mcp.example.com/mcp'],
    [undefined, 'https://mcp.example.com/mcp'],
    ['https://mcp.example.com/mcp', 'https://mcp.example.com/mcp#x'],
    ['mcp', 'mcp'],
  ])('%j does not match %s', (aud, resource) => {
    expect(audienceMatches(aud, resource)).toBe(false)
  })

  it('ignores non-string array members instead of throwing', () => {
    const aud = [null, 42, { toString: () => 'https://mcp.example.com' }] as unknown as string[]
    expect(audienceMatches(aud, 'https://mcp.example.com')).toBe(false)
  })
})

describe('isLoopbackHost', () => {
  it.each([
    'localhost',
    'LocalHost',
    '127.0.0.1',
    '127.255.255.255',
    '127.1.2.3',
    '[::1]',
    '::1',
    '[0:0::1]',
  ])('%s is loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(true)
  })

  it.each([
    'localhost.evil.example',
    'evil.localhost.example',
    '127.0.0.1.evil.example',
    '127.0.0.256',
    '127.0.01.1',
    '127.1',
    '0x7f000001',
    '2130706433',
    '128.0.0.1',
    '0.0.0.0',
    '[::]',
    '::ffff:127.0.0.1',
    '[::2]',
    '[::1',
    '',
    'example.com',
  ])('%s is not loopback', (host) => {
    expect(isLoopbackHost(host)).toBe(false)
  })
})
