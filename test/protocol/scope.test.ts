import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/protocol/errors.js'
import {
  expandScopes,
  hasScopes,
  isValidScopeToken,
  missingScopes,
  parseScope,
  type ScopeHierarchy,
  serializeScope,
  unionScopes,
} from '../../src/protocol/scope.js'

function scopeError(fn: () => unknown): ProtocolError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ProtocolError)
    return error as ProtocolError
  }
  throw new Error('expected a ProtocolError')
}

const nqchar = fc.constantFrom(
  ...Array.from({ length: 0x7e - 0x21 + 1 }, (_, i) => String.fromCharCode(0x21 + i)).filter(
    (c) => c !== '"' && c !== '\\',
  ),
)
const scopeToken = fc.string({ unit: nqchar, minLength: 1, maxLength: 12 })

describe('isValidScopeToken', () => {
  it('accepts 1*NQCHAR (RFC 6749 §3.3)', () => {
    for (const s of ['read', 'files:read', 'https://api.example.com/x', '!', '~', 'a#b[c]{d}']) {
      expect(isValidScopeToken(s)).toBe(true)
    }
  })

  it('refuses empty strings, spaces, quotes, backslashes, controls and non-ASCII', () => {
    for (const s of ['', 'a b', 'a"b', 'a\\b', 'a\tb', 'a\nb', 'a\x7fb', 'é', 'a\u2028']) {
      expect(isValidScopeToken(s)).toBe(false)
    }
  })
})

describe('parseScope', () => {
  it('splits the RFC 6749 §3.3 space-delimited list', () => {
    expect(parseScope('openid profile email')).toEqual(['openid', 'profile', 'email'])
  })

  it('returns [] for absent or empty values', () => {
    expect(parseScope(undefined)).toEqual([])
    expect(parseScope(null)).toEqual([])
    expect(parseScope('')).toEqual([])
    expect(parseScope('   ')).toEqual([])
  })

  it('drops empty entries and duplicates, keeping first-seen order', () => {
    expect(parseScope('  b  a b   c a ')).toEqual(['b', 'a', 'c'])
  })

  it('is case-sensitive', () => {
    expect(parseScope('Read read')).toEqual(['Read', 'read'])
  })

  it('throws ERR_INVALID_SCOPE on characters outside NQCHAR', () => {
    for (const value of ['a\tb', 'a\nb', 'a "b"', 'a\\b', 'naïve', 'a\x00']) {
      expect(scopeError(() => parseScope(value)).code).toBe('ERR_INVALID_SCOPE')
    }
  })

  it('never throws anything but ProtocolError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        try {
          const scopes = parseScope(s)
          for (const scope of scopes) expect(isValidScopeToken(scope)).toBe(true)
        } catch (error) {
          expect(error).toBeInstanceOf(ProtocolError)
        }
      }),
    )
  })
})

describe('serializeScope', () => {
  it('joins with single spaces and de-duplicates', () => {
    expect(serializeScope(['a', 'b', 'a', 'c'])).toBe('a b c')
    expect(serializeScope(new Set(['x']))).toBe('x')
    expect(serializeScope([])).toBe('')
  })

  it('reads a string argument as a scope value, not as characters', () => {
    expect(serializeScope('read  write')).toBe('read write')
  })

  it('throws ERR_INVALID_SCOPE for entries that are not scope-tokens', () => {
    for (const bad of [[''], ['a b'], ['a"'], ['ok', 'a\r\nX-Injected: 1']]) {
      expect(scopeError(() => serializeScope(bad)).code).toBe('ERR_INVALID_SCOPE')
    }
  })

  it('round-trips through parseScope', () => {
    fc.assert(
      fc.property(fc.array(scopeToken, { maxLength: 10 }), (tokens) => {
        const once = [...new Set(tokens)]
        expect(parseScope(serializeScope(tokens))).toEqual(once)
      }),
    )
  })
})

describe('unionScopes', () => {
  it('keeps first-seen order across sets', () => {
    expect(unionScopes(['b', 'a'], ['c', 'a'], new Set(['d', 'b']))).toEqual(['b', 'a', 'c', 'd'])
  })

  it('is the SEP-2350 step-up union of previous and challenged scopes', () => {
    const previous = parseScope('files:read calendar:read')
    const challenged = parseScope('files:write')
    expect(serializeScope(unionScopes(previous, challenged))).toBe('files:read calendar:read files:write')
  })

  it('handles no sets and empty sets', () => {
    expect(unionScopes()).toEqual([])
    expect(unionScopes([], [])).toEqual([])
  })

  it('reads string arguments as scope values', () => {
    expect(unionScopes('a b', 'b c')).toEqual(['a', 'b', 'c'])
  })
})

describe('scope hierarchies', () => {
  const hierarchy: ScopeHierarchy = {
    admin: ['write', 'billing'],
    write: ['read'],
    read: [],
  }

  it('expands transitively', () => {
    expect(expandScopes(['admin'], hierarchy)).toEqual(new Set(['admin', 'write', 'billing', 'read']))
    expect(expandScopes(['write'], hierarchy)).toEqual(new Set(['write', 'read']))
  })

  it('without a hierarchy returns the granted scopes only', () => {
    expect(expandScopes(['admin', 'admin'])).toEqual(new Set(['admin']))
  })

  it('terminates on cycles, and scopes in a cycle imply each other', () => {
    const cyclic: ScopeHierarchy = { a: ['b'], b: ['c'], c: ['a', 'd'], self: ['self'] }
    expect(expandScopes(['b'], cyclic)).toEqual(new Set(['b', 'c', 'a', 'd']))
    expect(expandScopes(['self'], cyclic)).toEqual(new Set(['self']))
    expect(hasScopes(['c'], ['a', 'b', 'd'], cyclic)).toBe(true)
  })

  it('terminates on generated cyclic hierarchies', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.constantFrom('a', 'b', 'c', 'd', 'e'),
          fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e')),
        ),
        fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e')),
        (h, granted) => {
          const expanded = expandScopes(granted, h)
          for (const scope of granted) expect(expanded.has(scope)).toBe(true)
          // Closed under implication.
          for (const scope of expanded)
            for (const implied of h[scope] ?? []) expect(expanded.has(implied)).toBe(true)
        },
      ),
    )
  })

  it('does not treat Object.prototype members as hierarchy entries', () => {
    expect(expandScopes(['constructor', 'toString', '__proto__'], {})).toEqual(
      new Set(['constructor', 'toString', '__proto__']),
    )
    expect(hasScopes(['constructor'], ['admin'], {})).toBe(false)
  })

  it('hasScopes accounts for the hierarchy (SEP-2350, D-S4)', () => {
    expect(hasScopes(['admin'], ['read', 'billing'], hierarchy)).toBe(true)
    expect(hasScopes(['write'], ['billing'], hierarchy)).toBe(false)
    // Implication only goes from broad to narrow.
    expect(hasScopes(['read'], ['write'], hierarchy)).toBe(false)
    expect(hasScopes(['admin'], ['read'])).toBe(false)
    expect(hasScopes([], [])).toBe(true)
  })

  it('missingScopes lists the uncovered required scopes in required order', () => {
    expect(missingScopes(['write'], ['billing', 'read', 'audit', 'billing'], hierarchy)).toEqual([
      'billing',
      'audit',
    ])
    expect(missingScopes('admin', 'read write', hierarchy)).toEqual([])
  })
})
