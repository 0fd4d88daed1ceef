import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/protocol/errors.js'
import { redirectUriMatches, validateRedirectUri } from '../../src/protocol/redirect-uri.js'

function refusal(uri: string, options?: Parameters<typeof validateRedirectUri>[1]): ProtocolError {
  try {
    validateRedirectUri(uri, options)
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError)
    return error as ProtocolError
  }
  throw new Error(`accepted ${JSON.stringify(uri)}`)
}

describe('validateRedirectUri', () => {
  it.each([
    'https://client.example.com/cb',
    'https://client.example.com:8443/cb?x=1',
    'https://CLIENT.example.com/cb',
    'http://127.0.0.1:1234/cb',
    'http://127.0.0.1/cb',
    'http://127.10.20.30:1234/cb',
    'http://[::1]:1234/cb',
    'http://localhost:3000/callback',
    'http://localhost/callback',
    'cursor://anysphere.cursor-retrieval/oauth/callback',
    'vscode://x/cb',
    'com.example.app:/cb',
    'com.example.app:/oauth2redirect/example-provider',
  ])('accepts %s', (uri) => {
    expect(validateRedirectUri(uri)).toBeInstanceOf(URL)
    expect(validateRedirectUri(uri, { applicationType: 'native' })).toBeInstanceOf(URL)
  })

  it('returns the parsed URL', () => {
    const url = validateRedirectUri('http://127.0.0.1:1234/cb?a=b')
    expect(url.hostname).toBe('127.0.0.1')
    expect(url.port).toBe('1234')
    expect(url.pathname).toBe('/cb')
  })

  // anchors.md S9: every spelling of a script or local scheme, refused for every kind of client.
  it.each([
    'javascript:alert(1)',
    'JaVaScRiPt:alert(1)',
    'JAVASCRIPT:alert(1)',
    ' javascript:alert(1)',
    'javascript:alert(1) ',
    '\tjavascript:alert(1)',
    'java\tscript:alert(1)',
    'java\nscript:alert(1)',
    'java\rscript:alert(1)',
    'java\u0000script:alert(1)',
    '\u0000javascript:alert(1)',
    '\u001fjavascript:alert(1)',
    'javascript\u007f:alert(1)',
    '\u00a0javascript:alert(1)',
    '\ufeffjavascript:alert(1)',
    'javascript://x/%0aalert(1)',
    'javascript:%61lert(1)',
    '%6aavascript:alert(1)',
    'javascript%3Aalert(1)',
    'data:text/html,<script>alert(1)</script>',
    'data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==',
    'DATA:text/plain,x',
    'vbscript:msgbox(1)',
    'VBScript:msgbox(1)',
    'blob:https://x/y',
    'file:///etc/passwd',
    'FILE://localhost/etc/passwd',
    'about:blank',
    'filesystem:https://x/temporary/y',
  ])('refuses %j for native, unset and web clients', (uri) => {
    for (const options of [
      undefined,
      { applicationType: 'native' as const },
      { applicationType: 'web' as const },
    ]) {
      expect(refusal(uri, options).code).toBe('ERR_INVALID_REDIRECT_URI')
    }
  })

  it.each([
    ['http://localhost:80@evil.com/cb', 'userinfo'],
    ['http://127.0.0.1@evil.com/cb', 'userinfo'],
    ['https://user:pass@client.example.com/cb', 'userinfo'],
    ['cursor://user@anysphere.cursor-retrieval/cb', 'userinfo'],
    ['https://client.example.com/cb#', 'fragment'],
    ['https://client.example.com/cb#frag', 'fragment'],
    ['http://127.0.0.1:1234/cb#x', 'fragment'],
    ['vscode://x/cb#x', 'fragment'],
    ['http://evil.com/cb', 'loopback'],
    ['http://localhost.evil.com/cb', 'loopback'],
    ['http://127.0.0.1.nip.io/cb', 'loopback'],
    ['http://0x7f000001/cb', 'canonical'],
    ['http://2130706433/cb', 'canonical'],
    ['http://127.1/cb', 'canonical'],
    ['http://%6cocalhost/cb', 'canonical'],
    ['http://[0:0::1]/cb', 'canonical'],
    ['https://evil.com\\@client.example.com/cb', 'RFC 3986'],
    ['https://client.example.com/c b', 'whitespace'],
    ['https://client.example.com/é', 'RFC 3986'],
    ['https://client.example.com/%zz', 'RFC 3986'],
    ['/cb', 'absolute'],
    ['//client.example.com/cb', 'absolute'],
    ['client.example.com/cb', 'absolute'],
    ['', 'string'],
    ['https:client.example.com/cb', 'host'],
    ['https:///client.example.com/cb', 'host'],
    ['http:/127.0.0.1/cb', 'host'],
    ['https://client.example.com:99999/cb', 'valid URL'],
    ['ws://127.0.0.1/cb', 'scheme'],
    ['cursor:', 'path'],
  ])('refuses %j (%s)', (uri, reason) => {
    const error = refusal(uri)
    expect(error.code).toBe('ERR_INVALID_REDIRECT_URI')
    expect(error.message).toContain(reason)
    if (uri !== '') expect(error.message).not.toContain(uri)
  })

  it('refuses private-use schemes for web clients or when disallowed, and keeps https and loopback', () => {
    for (const uri of [
      'cursor://anysphere.cursor-retrieval/oauth/callback',
      'vscode://x/cb',
      'com.example.app:/cb',
    ]) {
      expect(refusal(uri, { applicationType: 'web' }).message).toContain('private-use')
      expect(refusal(uri, { applicationType: 'native', allowPrivateUseSchemes: false }).message).toContain(
        'private-use',
      )
      expect(refusal(uri, { applicationType: 'web', allowPrivateUseSchemes: true }).message).toContain(
        'private-use',
      )
    }
    expect(validateRedirectUri('https://client.example.com/cb', { applicationType: 'web' })).toBeInstanceOf(
      URL,
    )
    expect(validateRedirectUri('http://127.0.0.1:5/cb', { allowPrivateUseSchemes: false })).toBeInstanceOf(
      URL,
    )
  })

  it('throws only ProtocolError for any string', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.webUrl(), fc.string({ unit: 'binary' })), (uri) => {
        try {
          validateRedirectUri(uri)
        } catch (error) {
          return error instanceof ProtocolError && error.code === 'ERR_INVALID_REDIRECT_URI'
        }
        return true
      }),
      { numRuns: 1000 },
    )
  })
})

describe('redirectUriMatches', () => {
  const registered = [
    'https://client.example.com/cb',
    'http://127.0.0.1:3000/callback',
    'http://[::1]/callback',
    'http://localhost:3000/callback',
    'cursor://anysphere.cursor-retrieval/oauth/callback',
  ]

  it('matches exact strings only', () => {
    for (const uri of registered) expect(redirectUriMatches(registered, uri)).toBe(true)
    expect(redirectUriMatches(registered, 'https://client.example.com/cb/')).toBe(false)
    expect(redirectUriMatches(registered, 'https://client.example.com:443/cb')).toBe(false)
    expect(redirectUriMatches(registered, 'https://CLIENT.example.com/cb')).toBe(false)
    expect(redirectUriMatches(registered, 'https://client.example.com/CB')).toBe(false)
    expect(redirectUriMatches(registered, 'https://client.example.com/%63b')).toBe(false)
    expect(redirectUriMatches(registered, 'https://client.example.com/cb?x=1')).toBe(false)
    expect(redirectUriMatches(registered, 'http://127.0.0.1:3001/callback')).toBe(false)
  })

  it('refuses the glob-bypass and fragment spellings (anchors S18)', () => {
    const loose = ['http://localhost/cb', 'http://localhost:80/cb']
    expect(redirectUriMatches(loose, 'http://localhost:80@evil.com/cb')).toBe(false)
    expect(redirectUriMatches(loose, 'http://localhost:80@evil.com/cb', { loopbackAnyPort: true })).toBe(
      false,
    )
    expect(
      redirectUriMatches(['http://127.0.0.1/cb'], 'http://127.0.0.1:80@evil.com/cb', {
        loopbackAnyPort: true,
      }),
    ).toBe(false)
    expect(redirectUriMatches(['https://client.example.com/cb'], 'https://client.example.com/cb#')).toBe(
      false,
    )
  })

  it('does not redirect to a registered URI that fails validation today (anchors S17)', () => {
    for (const bad of [
      'javascript:alert(1)',
      'http://evil.com/cb',
      'https://x.example/cb#f',
      'http://u@127.0.0.1/cb',
    ]) {
      expect(redirectUriMatches([bad], bad)).toBe(false)
    }
  })

  it('with loopbackAnyPort, lets only the port of a loopback IP literal vary (RFC 8252 §7.3)', () => {
    const opt = { loopbackAnyPort: true }
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback', opt)).toBe(true)
    expect(redirectUriMatches(registered, 'http://127.0.0.1/callback', opt)).toBe(true)
    expect(redirectUriMatches(registered, 'http://[::1]:51234/callback', opt)).toBe(true)
    expect(redirectUriMatches(['http://127.0.0.1/cb?a=1'], 'http://127.0.0.1:9/cb?a=1', opt)).toBe(true)
    expect(redirectUriMatches(['http://127.0.0.1:1'], 'http://127.0.0.1:2', opt)).toBe(true)
    // localhost is a name, not an IP literal: exact only.
    expect(redirectUriMatches(registered, 'http://localhost:51234/callback', opt)).toBe(false)
    // Everything but the port must be identical.
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/Callback', opt)).toBe(false)
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback/', opt)).toBe(false)
    expect(redirectUriMatches(registered, 'http://127.0.0.1:51234/callback?x=1', opt)).toBe(false)
    expect(redirectUriMatches(registered, 'http://127.0.0.2:51234/callback', opt)).toBe(false)
    expect(redirectUriMatches(registered, 'HTTP://127.0.0.1:51234/callback', opt)).toBe(false)
    expect(redirectUriMatches(registered, 'http://[::1]:51234/callback#', opt)).toBe(false)
    expect(redirectUriMatches(['https://127.0.0.1:3000/cb'], 'https://127.0.0.1:3001/cb', opt)).toBe(false)
    expect(redirectUriMatches(['http://127.0.0.1:3000/cb'], 'http://127.0.0.1:99999/cb', opt)).toBe(false)
  })

  it('never throws on garbage', () => {
    const garbage: unknown[] = [undefined, null, 42, 'x', {}, [null, 42, {}], new Proxy([], {})]
    for (const reg of garbage) {
      for (const presented of garbage) {
        for (const opt of [undefined, { loopbackAnyPort: true }]) {
          expect(redirectUriMatches(reg as string[], presented as string, opt)).toBe(false)
        }
      }
    }
    const hostile = new Proxy(['http://127.0.0.1/cb'], {
      get(target, key, receiver) {
        if (key === 'filter') throw new Error('boom')
        return Reflect.get(target, key, receiver)
      },
    })
    expect(redirectUriMatches(hostile, 'http://127.0.0.1/cb')).toBe(false)
  })

  // Registered URIs of every accepted kind, and generated near-miss spellings of them.
  const registeredUri = fc.oneof(
    fc
      .tuple(fc.domain(), fc.stringMatching(/^\/[a-z0-9/_-]{0,12}$/))
      .map(([host, path]) => `https://${host}${path}`),
    fc
      .tuple(
        fc.constantFrom('127.0.0.1', '[::1]', '127.4.5.6', 'localhost'),
        fc.option(fc.integer({ min: 1, max: 65535 }), { nil: undefined }),
        fc.stringMatching(/^\/[a-z0-9_-]{1,10}$/),
      )
      .map(([host, port, path]) => `http://${host}${port === undefined ? '' : `:${port}`}${path}`),
    fc
      .tuple(fc.constantFrom('cursor', 'vscode', 'com.example.app'), fc.stringMatching(/^[a-z0-9-]{1,10}$/))
      .map(([scheme, rest]) => `${scheme}://${rest}/callback`),
  )

  const PERCENT = (c: string): string => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`

  function variants(uri: string): fc.Arbitrary<string> {
    const index = fc.nat({ max: uri.length })
    const authorityStart = uri.indexOf('://') + 3
    return fc.oneof(
      // Userinfo, including the S18 `host:port@evil` shape.
      fc
        .tuple(fc.constantFrom('user@', 'a:b@', '@', 'localhost:80@', '127.0.0.1@'), fc.domain())
        .map(
          ([userinfo, evil]) =>
            `${uri.slice(0, authorityStart)}${userinfo}${evil}${uri.slice(authorityStart)}`,
        ),
      fc.constantFrom('@evil.example', ':80@evil.example').map((tail) => {
        const end = uri.indexOf('/', authorityStart)
        const cut = end === -1 ? uri.length : end
        return `${uri.slice(0, cut)}${tail}${uri.slice(cut)}`
      }),
      // Case changes anywhere.
      fc
        .array(fc.boolean(), { minLength: uri.length, maxLength: uri.length })
        .map((flags) =>
          [...uri]
            .map((c, i) => (flags[i] ? (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase()) : c))
            .join(''),
        ),
      // Whitespace and control characters anywhere.
      fc
        .tuple(
          index,
          fc.constantFrom(' ', '\t', '\n', '\r', '\u0000', '\u000b', '\u000c', '\u007f', '\u00a0', '\u2028'),
        )
        .map(([i, ws]) => `${uri.slice(0, i)}${ws}${uri.slice(i)}`),
      // Percent-encoding of one character.
      fc
        .nat({ max: Math.max(0, uri.length - 1) })
        .map((i) => `${uri.slice(0, i)}${PERCENT(uri[i] ?? '/')}${uri.slice(i + 1)}`),
      // Trailing slash, empty or real fragment, empty query, explicit default port.
      fc.constantFrom(
        `${uri}/`,
        `${uri}#`,
        `${uri}#x`,
        `${uri}?`,
        uri.replace(/^https:\/\/([^/]+)/, 'https://$1:443'),
      ),
    )
  }

  it('matches no generated userinfo, case, whitespace or percent-encoding variant unless identical', () => {
    fc.assert(
      fc.property(
        registeredUri.chain((uri) => fc.tuple(fc.constant(uri), variants(uri))),
        ([uri, variant]) => {
          expect(redirectUriMatches([uri], uri)).toBe(true)
          const expected = variant === uri
          expect(redirectUriMatches([uri], variant)).toBe(expected)
          expect(redirectUriMatches([uri], variant, { loopbackAnyPort: true })).toBe(expected)
        },
      ),
      { numRuns: 2000 },
    )
  })

  it('with loopbackAnyPort, matches port variants of loopback IP literals only', () => {
    fc.assert(
      fc.property(
        registeredUri,
        fc.option(fc.integer({ min: 0, max: 65535 }), { nil: undefined }),
        (uri, port) => {
          const variant = uri.replace(
            /^(http:\/\/(?:\[[^\]]*\]|[^/:]+))(?::\d+)?/,
            `$1${port === undefined ? '' : `:${port}`}`,
          )
          const ipLiteral = /^http:\/\/(?:127\.|\[::1\])/.test(uri)
          expect(redirectUriMatches([uri], variant, { loopbackAnyPort: true })).toBe(
            ipLiteral || variant === uri,
          )
          expect(redirectUriMatches([uri], variant)).toBe(variant === uri)
        },
      ),
      { numRuns: 1000 },
    )
  })
})
