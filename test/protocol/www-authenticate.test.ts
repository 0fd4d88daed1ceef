import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/protocol/errors.js'
import {
  bearerChallenge,
  type Challenge,
  findBearerChallenge,
  MAX_WWW_AUTHENTICATE_LENGTH,
  type ParsedChallenge,
  parseWwwAuthenticate,
  serializeChallenge,
  serializeChallenges,
} from '../../src/protocol/www-authenticate.js'

/** The challenge without `normalizedScheme`, with params as a plain object, for `toEqual`. */
function plain(challenge: ParsedChallenge): Challenge {
  const out: Challenge = { scheme: challenge.scheme, params: { ...challenge.params } }
  if (challenge.token68 !== undefined) out.token68 = challenge.token68
  return out
}

function parsePlain(input: string | readonly string[] | Headers): Challenge[] {
  return parseWwwAuthenticate(input).map(plain)
}

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError)
    return error as ProtocolError
  }
  throw new Error('expected a ProtocolError')
}

describe('parseWwwAuthenticate: RFC vectors', () => {
  it('RFC 9110 §11.6.1: two challenges, escaped quotes, unquoted token value', () => {
    const header = 'Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"'
    expect(parsePlain(header)).toEqual([
      { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'Basic', params: { realm: 'simple' } },
    ])
  })

  it('RFC 6750 §3: Bearer with realm, error and error_description', () => {
    const header =
      'Bearer realm="example", error="invalid_token", error_description="The access token expired"'
    const challenges = parseWwwAuthenticate(header)
    expect(challenges.map(plain)).toEqual([
      {
        scheme: 'Bearer',
        params: { realm: 'example', error: 'invalid_token', error_description: 'The access token expired' },
      },
    ])
    expect(findBearerChallenge(challenges)).toEqual({
      realm: 'example',
      error: 'invalid_token',
      error_description: 'The access token expired',
      params: { realm: 'example', error: 'invalid_token', error_description: 'The access token expired' },
    })
  })

  it('RFC 6750 §3: bare realm challenge', () => {
    expect(parsePlain('Bearer realm="example"')).toEqual([{ scheme: 'Bearer', params: { realm: 'example' } }])
  })

  it('RFC 9728 §5.1: resource_metadata', () => {
    const url = 'https://resource.example.com/.well-known/oauth-protected-resource'
    const challenges = parseWwwAuthenticate(`Bearer resource_metadata="${url}"`)
    expect(findBearerChallenge(challenges)?.resource_metadata).toBe(url)
  })

  it('RFC 9728 §5.1 / MCP: insufficient_scope with scope and resource_metadata', () => {
    const header =
      'Bearer error="insufficient_scope", scope="files:read files:write", ' +
      'resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", ' +
      'error_description="Additional file write permission required"'
    const bearer = findBearerChallenge(parseWwwAuthenticate(header))
    expect(bearer?.error).toBe('insufficient_scope')
    expect(bearer?.scope).toBe('files:read files:write')
    expect(bearer?.resource_metadata).toBe('https://mcp.example.com/.well-known/oauth-protected-resource')
    expect(bearer?.error_description).toBe('Additional file write permission required')
    expect(bearer?.error_uri).toBeUndefined()
  })
})

describe('parseWwwAuthenticate: token68', () => {
  it('Basic with a base64 token68 (RFC 7617 §2 credentials as a challenge-shaped vector)', () => {
    expect(parsePlain('Basic YWxhZGRpbjpvcGVuc2VzYW1l')).toEqual([
      { scheme: 'Basic', token68: 'YWxhZGRpbjpvcGVuc2VzYW1l', params: {} },
    ])
  })

  it('token68 with trailing "=" padding, followed by another challenge', () => {
    expect(parsePlain('Negotiate abc==, Bearer realm="x"')).toEqual([
      { scheme: 'Negotiate', token68: 'abc==', params: {} },
      { scheme: 'Bearer', params: { realm: 'x' } },
    ])
    expect(parsePlain('Negotiate abc=')).toEqual([{ scheme: 'Negotiate', token68: 'abc=', params: {} }])
    // RFC 9110 §11.2: a lone `name=` right after the scheme is a token68, not an empty auth-param.
    expect(parsePlain('Bearer realm=')).toEqual([{ scheme: 'Bearer', token68: 'realm=', params: {} }])
    expect(parsePlain('X a/b+c~d.e_f-g')).toEqual([{ scheme: 'X', token68: 'a/b+c~d.e_f-g', params: {} }])
  })

  it('rejects auth-params after a token68', () => {
    expect(protocolError(() => parseWwwAuthenticate('Negotiate abc==, realm="x"')).code).toBe(
      'ERR_INVALID_HEADER',
    )
  })
})

describe('parseWwwAuthenticate: list syntax', () => {
  it('splits several challenges in one value', () => {
    expect(parsePlain('Bearer realm="a", error="x", Basic realm="b"')).toEqual([
      { scheme: 'Bearer', params: { realm: 'a', error: 'x' } },
      { scheme: 'Basic', params: { realm: 'b' } },
    ])
  })

  it('accepts challenges without parameters anywhere in the list', () => {
    expect(parsePlain('Basic, Bearer, Digest realm="r", Negotiate')).toEqual([
      { scheme: 'Basic', params: {} },
      { scheme: 'Bearer', params: {} },
      { scheme: 'Digest', params: { realm: 'r' } },
      { scheme: 'Negotiate', params: {} },
    ])
  })

  it('keeps commas, spaces, "=" and escapes inside quoted-strings', () => {
    expect(parsePlain('Bearer realm="a, Basic b=\\"c\\", d", scope="x y"')).toEqual([
      { scheme: 'Bearer', params: { realm: 'a, Basic b="c", d', scope: 'x y' } },
    ])
    expect(parsePlain('X p="back\\\\slash", q="\\a\\b"')).toEqual([
      { scheme: 'X', params: { p: 'back\\slash', q: 'ab' } },
    ])
    expect(parsePlain('X p=""')).toEqual([{ scheme: 'X', params: { p: '' } }])
  })

  it('accepts OWS, BWS around "=", tabs and empty list elements', () => {
    expect(parsePlain(' ,, Bearer \t realm = "a" ,\t, error\t=\tx , ,Basic realm="b",  ')).toEqual([
      { scheme: 'Bearer', params: { realm: 'a', error: 'x' } },
      { scheme: 'Basic', params: { realm: 'b' } },
    ])
    expect(parsePlain('')).toEqual([])
    expect(parsePlain(' , ,, ')).toEqual([])
  })

  it('accepts obs-text inside quoted-strings', () => {
    expect(parsePlain('X realm="caf\u00e9"')).toEqual([{ scheme: 'X', params: { realm: 'caf\u00e9' } }])
  })
})

describe('parseWwwAuthenticate: case-insensitivity', () => {
  it('lower-cases parameter names, keeps the scheme as sent plus normalizedScheme', () => {
    const [challenge] = parseWwwAuthenticate('BEARER Realm="A", ERROR="Invalid_Token", Resource_Metadata="U"')
    expect(challenge?.scheme).toBe('BEARER')
    expect(challenge?.normalizedScheme).toBe('bearer')
    expect({ ...challenge?.params }).toEqual({ realm: 'A', error: 'Invalid_Token', resource_metadata: 'U' })
  })

  it('findBearerChallenge matches the scheme in any case and picks the first Bearer', () => {
    const challenges = parseWwwAuthenticate('Basic realm="b", bEaReR realm="first", Bearer realm="second"')
    expect(findBearerChallenge(challenges)?.realm).toBe('first')
    expect(findBearerChallenge(parseWwwAuthenticate('Basic realm="x"'))).toBeUndefined()
    expect(findBearerChallenge([])).toBeUndefined()
  })

  it('findBearerChallenge lower-cases names of hand-built challenges', () => {
    expect(findBearerChallenge([{ scheme: 'Bearer', params: { Scope: 'a b' } }])?.scope).toBe('a b')
  })

  it('rejects a parameter named twice in one challenge, in any case (RFC 9110 §11.2)', () => {
    for (const header of [
      'Bearer realm="a", realm="b"',
      'Bearer realm="a", REALM="a"',
      'Bearer scope=a, Scope=a',
    ]) {
      const error = protocolError(() => parseWwwAuthenticate(header))
      expect(error.code).toBe('ERR_INVALID_HEADER')
      expect(error.detail).toMatch(/duplicate/)
    }
    // The same name in two different challenges is fine.
    expect(parsePlain('Bearer realm="a", Basic realm="b"')).toHaveLength(2)
  })

  it('treats Object.prototype names as ordinary parameters', () => {
    const [challenge] = parseWwwAuthenticate('X constructor=a, toString="b", __proto__=c, hasOwnProperty=d')
    expect(Object.getPrototypeOf(challenge?.params)).toBeNull()
    expect(challenge?.params['constructor']).toBe('a')
    expect(challenge?.params['tostring']).toBe('b')
    expect(Object.hasOwn(challenge?.params ?? {}, '__proto__')).toBe(true)
    expect(Object.getOwnPropertyDescriptor(challenge?.params ?? {}, '__proto__')?.value).toBe('c')
    expect(Object.keys(challenge?.params ?? {})).toEqual([
      'constructor',
      'tostring',
      '__proto__',
      'hasownproperty',
    ])
  })
})

describe('parseWwwAuthenticate: several header lines', () => {
  it('parses each raw value of an array and concatenates the challenges', () => {
    expect(parsePlain(['Basic realm="a"', 'Bearer realm="b", error="invalid_token"'])).toEqual([
      { scheme: 'Basic', params: { realm: 'a' } },
      { scheme: 'Bearer', params: { realm: 'b', error: 'invalid_token' } },
    ])
    expect(parsePlain([])).toEqual([])
  })

  it('parses each array value on its own: an unterminated quote does not swallow the next line', () => {
    // Joined, the quote would close inside the second line and hide its Bearer challenge.
    expect(protocolError(() => parseWwwAuthenticate(['Basic realm="a', 'Bearer realm="b"'])).code).toBe(
      'ERR_INVALID_HEADER',
    )
  })

  it('reads a Headers object, whose get() joins field lines with ", "', () => {
    const headers = new Headers()
    headers.append('WWW-Authenticate', 'Newauth realm="apps", type=1')
    headers.append(
      'www-authenticate',
      'Bearer resource_metadata="https://rs.example/.well-known/oauth-protected-resource"',
    )
    expect(parsePlain(headers)).toEqual([
      { scheme: 'Newauth', params: { realm: 'apps', type: '1' } },
      {
        scheme: 'Bearer',
        params: { resource_metadata: 'https://rs.example/.well-known/oauth-protected-resource' },
      },
    ])
    expect(parsePlain(new Headers())).toEqual([])
  })

  it('reads the header of a Response', () => {
    const response = new Response(null, { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="r"' } })
    expect(findBearerChallenge(parseWwwAuthenticate(response.headers))?.realm).toBe('r')
  })

  it('rejects inputs of the wrong type with ERR_INVALID_ARGUMENT', () => {
    for (const bad of [42, null, undefined, {}, ['ok', 42]]) {
      expect(protocolError(() => parseWwwAuthenticate(bad as unknown as string)).code).toBe(
        'ERR_INVALID_ARGUMENT',
      )
    }
  })
})

describe('parseWwwAuthenticate: malformed input is rejected whole with ERR_INVALID_HEADER', () => {
  const malformed: Array<[string, string]> = [
    ['unterminated quote', 'Bearer realm="abc'],
    ['unterminated quote after escape', 'Bearer realm="abc\\'],
    ['"=" without a name', 'Bearer ="x"'],
    ['"=" without a name after a comma', 'Bearer realm="a", =x'],
    ['leading "="', '=x'],
    ['auth-param before any scheme', 'realm="x", Bearer'],
    ['name without value', 'Bearer realm="a", error='],
    ['name without value before a comma', 'Bearer realm=, error="x"'],
    ['value that is neither token nor quoted-string', 'Bearer resource_metadata=https://rs.example/prm'],
    ['two values', 'Bearer realm="a" "b"'],
    ['junk after a quoted value', 'Bearer realm="a"b'],
    ['no whitespace after the scheme', 'Bearer"x"'],
    ['CR LF inside', 'Bearer realm="a"\r\nSet-Cookie: x=y'],
    ['LF inside a quoted-string', 'Bearer realm="a\nb"'],
    ['NUL', 'Bearer realm="a\u0000"'],
    ['DEL in a token', 'Bearer re\u007falm="a"'],
    ['escaped control character', 'Bearer realm="a\\\u0001"'],
    ['non-Latin-1 character', 'Bearer realm="\u2603"'],
    ['semicolon separators', 'Bearer realm="a"; error="b"'],
    ['second token68', 'Negotiate abc def'],
    ['token68 then param without comma', 'Negotiate abc== realm="x"'],
    ['lone "="', 'Bearer ='],
    ['duplicate parameter', 'Bearer error="a", error="b"'],
  ]

  for (const [name, header] of malformed) {
    it(name, () => {
      const error = protocolError(() => parseWwwAuthenticate(header))
      expect(error.code).toBe('ERR_INVALID_HEADER')
      expect(error.detail).toMatch(/at offset \d+$/)
    })
  }

  it('never echoes the input in the message or detail', () => {
    const error = protocolError(() => parseWwwAuthenticate('Bearer secret-value-123="'))
    expect(error.message).not.toContain('secret-value-123')
    expect(error.detail).not.toContain('secret-value-123')
  })

  it('caps the input size with ERR_INPUT_TOO_LARGE', () => {
    const big = `Bearer realm="${'a'.repeat(MAX_WWW_AUTHENTICATE_LENGTH)}"`
    expect(protocolError(() => parseWwwAuthenticate(big)).code).toBe('ERR_INPUT_TOO_LARGE')
    const half = 'a'.repeat(MAX_WWW_AUTHENTICATE_LENGTH / 2 + 1)
    expect(protocolError(() => parseWwwAuthenticate([half, half])).code).toBe('ERR_INPUT_TOO_LARGE')
    const exact = `X ${'a'.repeat(MAX_WWW_AUTHENTICATE_LENGTH - 2)}`
    expect(parseWwwAuthenticate(exact)[0]?.token68).toHaveLength(MAX_WWW_AUTHENTICATE_LENGTH - 2)
  })
})

describe('serializeChallenge', () => {
  it('quotes values that are not tokens and escapes " and \\', () => {
    expect(
      serializeChallenge({
        scheme: 'Newauth',
        params: { realm: 'apps', type: '1', title: 'Login to "apps"' },
      }),
    ).toBe('Newauth realm="apps", type=1, title="Login to \\"apps\\""')
    expect(serializeChallenge({ scheme: 'X', params: { p: 'a\\b', q: '', r: 'a, b', s: 'x=y' } })).toBe(
      'X p="a\\\\b", q="", r="a, b", s="x=y"',
    )
  })

  it('always quotes realm (RFC 9110 §11.5)', () => {
    expect(serializeChallenge({ scheme: 'Basic', params: { realm: 'simple' } })).toBe('Basic realm="simple"')
  })

  it('quotes every value with quote: "always"', () => {
    expect(serializeChallenge({ scheme: 'X', params: { a: 'b' } }, { quote: 'always' })).toBe('X a="b"')
  })

  it('writes token68 and bare schemes', () => {
    expect(serializeChallenge({ scheme: 'Basic', token68: 'YWxhZGRpbjpvcGVuc2VzYW1l', params: {} })).toBe(
      'Basic YWxhZGRpbjpvcGVuc2VzYW1l',
    )
    expect(serializeChallenge({ scheme: 'Negotiate', params: {} })).toBe('Negotiate')
  })

  it('rejects CR, LF and control characters in values (no header injection)', () => {
    for (const value of ['a\r\nSet-Cookie: x=y', 'a\nb', 'a\rb', 'a\u0000', 'a\u007f', '\u2603']) {
      const error = protocolError(() => serializeChallenge({ scheme: 'Bearer', params: { realm: value } }))
      expect(error.code).toBe('ERR_INVALID_ARGUMENT')
    }
  })

  it('rejects invalid schemes, names, token68 and duplicate names', () => {
    const bad: Challenge[] = [
      { scheme: '', params: {} },
      { scheme: 'Bea rer', params: {} },
      { scheme: 'Bearer\r\n', params: {} },
      { scheme: 'X', params: { 'a b': 'c' } },
      { scheme: 'X', params: { '': 'c' } },
      { scheme: 'X', token68: 'a b', params: {} },
      { scheme: 'X', token68: '=abc', params: {} },
      { scheme: 'X', token68: 'abc', params: { a: 'b' } },
      { scheme: 'X', params: { a: '1', A: '2' } },
    ]
    for (const challenge of bad) {
      expect(protocolError(() => serializeChallenge(challenge)).code).toBe('ERR_INVALID_ARGUMENT')
    }
  })

  it('serializeChallenges joins with ", " and needs at least one challenge', () => {
    expect(
      serializeChallenges([
        { scheme: 'Bearer', params: { realm: 'a', error: 'x' } },
        { scheme: 'Basic', params: { realm: 'b' } },
      ]),
    ).toBe('Bearer realm="a", error=x, Basic realm="b"')
    expect(protocolError(() => serializeChallenges([])).code).toBe('ERR_INVALID_ARGUMENT')
  })
})

describe('bearerChallenge', () => {
  it('builds the RFC 6750 §3 example', () => {
    expect(
      bearerChallenge({
        realm: 'example',
        error: 'invalid_token',
        error_description: 'The access token expired',
      }),
    ).toBe('Bearer realm="example", error="invalid_token", error_description="The access token expired"')
  })

  it('builds the RFC 9728 §5.1 example', () => {
    expect(
      bearerChallenge({
        resource_metadata: 'https://resource.example.com/.well-known/oauth-protected-resource',
      }),
    ).toBe('Bearer resource_metadata="https://resource.example.com/.well-known/oauth-protected-resource"')
  })

  it('uses a stable order whatever the property order', () => {
    const header = bearerChallenge({
      extra: { max_age: '300' },
      error_uri: 'https://rs.example/errors/scope',
      resource_metadata: 'https://rs.example/prm',
      scope: ['files:read', 'files:write'],
      error_description: 'More access needed',
      error: 'insufficient_scope',
      realm: 'mcp',
    })
    expect(header).toBe(
      'Bearer realm="mcp", error="insufficient_scope", error_description="More access needed", ' +
        'scope="files:read files:write", resource_metadata="https://rs.example/prm", ' +
        'error_uri="https://rs.example/errors/scope", max_age="300"',
    )
    const bearer = findBearerChallenge(parseWwwAuthenticate(header))
    expect(bearer).toMatchObject({
      realm: 'mcp',
      error: 'insufficient_scope',
      error_description: 'More access needed',
      scope: 'files:read files:write',
      resource_metadata: 'https://rs.example/prm',
      error_uri: 'https://rs.example/errors/scope',
    })
    expect(bearer?.params['max_age']).toBe('300')
  })

  it('gives a bare Bearer with no parameters', () => {
    expect(bearerChallenge()).toBe('Bearer')
    expect(bearerChallenge({})).toBe('Bearer')
  })

  it('accepts scope as a scope value string and normalizes it', () => {
    expect(bearerChallenge({ scope: ' read  write read ' })).toBe('Bearer scope="read write"')
  })

  it('sanitizes error_description to the RFC 6750 §3 character set', () => {
    const header = bearerChallenge({ error: 'invalid_token', error_description: 'bad "token"\r\nX: y \\ é' })
    expect(header).not.toMatch(/[\r\n]/)
    const bearer = findBearerChallenge(parseWwwAuthenticate(header))
    expect(bearer?.error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/)
  })

  it('rejects error, error_uri, scope and extra values that are not allowed', () => {
    expect(protocolError(() => bearerChallenge({ error: 'bad"code' })).code).toBe('ERR_INVALID_ARGUMENT')
    expect(protocolError(() => bearerChallenge({ error: 'a\r\nb' })).code).toBe('ERR_INVALID_ARGUMENT')
    expect(protocolError(() => bearerChallenge({ error_uri: 'https://x/ y' })).code).toBe(
      'ERR_INVALID_ARGUMENT',
    )
    expect(protocolError(() => bearerChallenge({ scope: ['a"b'] })).code).toBe('ERR_INVALID_SCOPE')
    expect(protocolError(() => bearerChallenge({ resource_metadata: 'https://x/\r\nY: z' })).code).toBe(
      'ERR_INVALID_ARGUMENT',
    )
    expect(protocolError(() => bearerChallenge({ extra: { Realm: 'x' } })).code).toBe('ERR_INVALID_ARGUMENT')
    expect(protocolError(() => bearerChallenge({ extra: { a: '1', A: '2' } })).code).toBe(
      'ERR_INVALID_ARGUMENT',
    )
    expect(protocolError(() => bearerChallenge({ extra: { 'a b': '1' } })).code).toBe('ERR_INVALID_ARGUMENT')
  })

  it('keeps an extra named __proto__ as a parameter', () => {
    const header = bearerChallenge({ extra: JSON.parse('{"__proto__":"x"}') as Record<string, string> })
    expect(header).toBe('Bearer __proto__="x"')
  })
})

// Property-based tests.

const TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
const tokenArb = fc.string({ unit: fc.constantFrom(...TCHARS), minLength: 1, maxLength: 10 })
const token68Arb = fc
  .tuple(
    fc.string({
      unit: fc.constantFrom(...'abcXYZ019-._~+/'),
      minLength: 1,
      maxLength: 12,
    }),
    fc.integer({ min: 0, max: 2 }),
  )
  .map(([body, pad]) => body + '='.repeat(pad))
/** Printable values, weighted towards the characters that need quoting or escaping. */
const valueArb = fc.string({
  unit: fc.oneof(
    fc.constantFrom('"', '\\', ',', ' ', '\t', '=', ';', 'a', 'Z', '0', '/', ':'),
    fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
    fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c)),
  ),
  maxLength: 20,
})
const paramsArb = fc
  .uniqueArray(fc.tuple(tokenArb, valueArb), { selector: ([name]) => name.toLowerCase(), maxLength: 5 })
  .map((entries) => {
    const params: Record<string, string> = {}
    for (const [name, value] of entries) Object.defineProperty(params, name, { value, enumerable: true })
    return params
  })
const challengeArb: fc.Arbitrary<Challenge> = fc.oneof(
  fc.record({ scheme: tokenArb, params: paramsArb }),
  fc.record({ scheme: tokenArb, token68: token68Arb, params: fc.constant({}) }),
)

describe('parseWwwAuthenticate: properties', () => {
  it('serialize then parse gives back the challenges (names lower-cased)', () => {
    fc.assert(
      fc.property(
        fc.array(challengeArb, { minLength: 1, maxLength: 5 }),
        fc.boolean(),
        (challenges, always) => {
          const header = always
            ? challenges.map((c) => serializeChallenge(c, { quote: 'always' })).join(', ')
            : serializeChallenges(challenges)
          const expected = challenges.map((c) => {
            const out: Challenge = {
              scheme: c.scheme,
              params: Object.fromEntries(Object.entries(c.params).map(([k, v]) => [k.toLowerCase(), v])),
            }
            if (c.token68 !== undefined) out.token68 = c.token68
            return out
          })
          const parsed = parseWwwAuthenticate(header)
          expect(parsed.map(plain)).toEqual(expected)
          for (const p of parsed) expect(p.normalizedScheme).toBe(p.scheme.toLowerCase())
        },
      ),
      { numRuns: 500 },
    )
  })

  it('arbitrary unicode strings never throw anything but ProtocolError', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (s) => {
        try {
          parseWwwAuthenticate(s)
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError)
        }
      }),
      { numRuns: 2000 },
    )
  })

  it('strings of grammar characters never throw anything but ProtocolError', () => {
    const grammar = fc.string({
      unit: fc.constantFrom(
        '"',
        ',',
        '=',
        '\\',
        '\t',
        ' ',
        'a',
        'B',
        '1',
        '/',
        '+',
        '\r',
        '\n',
        '\u00e9',
        '\u0000',
      ),
      maxLength: 80,
    })
    fc.assert(
      fc.property(fc.oneof(grammar, fc.array(grammar, { maxLength: 4 })), (input) => {
        try {
          const challenges = parseWwwAuthenticate(input)
          // Whatever parses must serialize back to something that parses the same.
          if (challenges.length > 0) {
            const again = parseWwwAuthenticate(serializeChallenges(challenges))
            expect(again.map(plain)).toEqual(challenges.map(plain))
          }
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError)
        }
      }),
      { numRuns: 3000 },
    )
  })

  it('parses adversarial 16 KiB inputs in linear time', () => {
    const n = MAX_WWW_AUTHENTICATE_LENGTH
    const fill = (unit: string, prefix = '') =>
      prefix + unit.repeat(Math.floor((n - prefix.length) / unit.length))
    const inputs = [
      fill('a='),
      fill('a', 'X '),
      fill('"'),
      fill(','),
      fill(' '),
      fill('\\"', 'X a="'),
      fill('a=a, ', 'X '),
      fill('a, '),
      fill('=,', 'X a'),
      fill('a ='),
      fill('ab=', 'X '),
      fill('a=", '),
      fill('\\', 'X a="'),
      fill('a'),
      fill('a=='),
      // Distinct names so the parser walks the whole list before finding nothing wrong.
      `X ${Array.from({ length: 1500 }, (_, i) => `p${i}=v`).join(',')}`.slice(0, n),
    ]
    for (const input of inputs) {
      expect(input.length).toBeLessThanOrEqual(n)
      const started = performance.now()
      try {
        parseWwwAuthenticate(input)
      } catch (error) {
        expect(error).toBeInstanceOf(ProtocolError)
      }
      expect(performance.now() - started).toBeLessThan(500)
    }
  })
})
