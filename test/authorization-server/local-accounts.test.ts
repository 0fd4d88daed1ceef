import { afterEach, describe, expect, it, vi } from 'vitest'
import {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  localAccounts,
  verifyPassword,
} from '../../src/authorization-server/accounts/index.js'
import { base64url, base64urlDecode, utf8 } from '../../src/protocol/random.js'

// Low cost keeps the suite fast; the default is checked separately.
const ITERATIONS = 1_000

afterEach(() => {
  vi.restoreAllMocks()
})

describe('hashPassword / verifyPassword', () => {
  it('encodes pbkdf2-sha256$<iterations>$<16-byte salt>$<32-byte hash> in base64url', async () => {
    const encoded = await hashPassword('correct horse', { iterations: ITERATIONS })
    const match = /^pbkdf2-sha256\$1000\$([A-Za-z0-9_-]+)\$([A-Za-z0-9_-]+)$/.exec(encoded)
    expect(match).not.toBeNull()
    expect(base64urlDecode(match![1]!)).toHaveLength(16)
    expect(base64urlDecode(match![2]!)).toHaveLength(32)
  })

  it('is PBKDF2-HMAC-SHA256 of the password with the encoded salt', async () => {
    const encoded = await hashPassword('correct horse', { iterations: ITERATIONS })
    const [, , salt, hash] = encoded.split('$')
    const key = await crypto.subtle.importKey('raw', utf8('correct horse'), 'PBKDF2', false, ['deriveBits'])
    const bits = await crypto.subtle.deriveBits(
      {
        name: 'PBKDF2',
        hash: 'SHA-256',
        salt: new Uint8Array(base64urlDecode(salt!)),
        iterations: ITERATIONS,
      },
      key,
      256,
    )
    expect(base64url(new Uint8Array(bits))).toBe(hash)
  })

  it('defaults to 600 000 iterations (OWASP)', async () => {
    expect(DEFAULT_PBKDF2_ITERATIONS).toBe(600_000)
    const spy = vi.spyOn(crypto.subtle, 'deriveBits')
    const encoded = await hashPassword('x')
    expect(encoded.startsWith('pbkdf2-sha256$600000$')).toBe(true)
    expect((spy.mock.calls[0]![0] as Pbkdf2Params).iterations).toBe(600_000)
  })

  it('salts every hash', async () => {
    const a = await hashPassword('same', { iterations: ITERATIONS })
    const b = await hashPassword('same', { iterations: ITERATIONS })
    expect(a).not.toBe(b)
  })

  it('verifies the right password and refuses a wrong one', async () => {
    const encoded = await hashPassword('correct horse', { iterations: ITERATIONS })
    expect(await verifyPassword('correct horse', encoded)).toBe(true)
    expect(await verifyPassword('correct horsE', encoded)).toBe(false)
    expect(await verifyPassword('', encoded)).toBe(false)
  })

  it('normalizes passwords to NFC', async () => {
    const encoded = await hashPassword('caf\u00e9', { iterations: ITERATIONS })
    expect(await verifyPassword('cafe\u0301', encoded)).toBe(true)
  })

  it.each([
    '',
    'pbkdf2-sha256$1000$abc',
    'pbkdf2-sha1$1000$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'pbkdf2-sha256$0$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'pbkdf2-sha256$99999999$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'pbkdf2-sha256$1000$AAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
    'pbkdf2-sha256$1000$AAAAAAAAAAAAAAAAAAAAAA$AAAA',
    'pbkdf2-sha256$1000$!!!!$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
  ])('gives false for a malformed hash %j', async (encoded) => {
    expect(await verifyPassword('x', encoded)).toBe(false)
  })

  it('refuses iteration counts outside bounds and over-long passwords', async () => {
    await expect(hashPassword('x', { iterations: 0 })).rejects.toThrow(TypeError)
    await expect(hashPassword('x', { iterations: 1.5 })).rejects.toThrow(TypeError)
    await expect(hashPassword('x'.repeat(2000), { iterations: ITERATIONS })).rejects.toThrow(TypeError)
  })
})

describe('localAccounts', () => {
  it('authenticates a plain-password user and returns subject and name', async () => {
    const accounts = localAccounts({
      users: [{ username: 'alice', password: 'wonderland', subject: 'user-1', name: 'Alice' }],
      iterations: ITERATIONS,
    })
    expect(await accounts.authenticate({ username: 'alice', password: 'wonderland' })).toEqual({
      subject: 'user-1',
      name: 'Alice',
    })
  })

  it('authenticates a pre-hashed user; the subject defaults to the username', async () => {
    const passwordHash = await hashPassword('s3cret', { iterations: ITERATIONS })
    const accounts = localAccounts({ users: [{ username: 'bob', passwordHash }], iterations: ITERATIONS })
    expect(await accounts.authenticate({ username: 'bob', password: 's3cret' })).toEqual({ subject: 'bob' })
  })

  it('refuses a wrong password and an unknown user alike', async () => {
    const accounts = localAccounts({
      users: [{ username: 'alice', password: 'wonderland' }],
      iterations: ITERATIONS,
    })
    expect(await accounts.authenticate({ username: 'alice', password: 'Wonderland' })).toBeUndefined()
    expect(await accounts.authenticate({ username: 'mallory', password: 'wonderland' })).toBeUndefined()
    expect(await accounts.authenticate({ username: 'ALICE', password: 'wonderland' })).toBeUndefined()
    expect(await accounts.authenticate({ username: '', password: '' })).toBeUndefined()
  })

  it('hashes plain passwords once, on first use, then reuses the hash', async () => {
    const spy = vi.spyOn(crypto.subtle, 'deriveBits')
    const accounts = localAccounts({
      users: [
        { username: 'alice', password: 'a' },
        { username: 'bob', password: 'b' },
      ],
      iterations: ITERATIONS,
    })
    expect(spy).not.toHaveBeenCalled()
    await accounts.authenticate({ username: 'alice', password: 'a' })
    // Two users + the unknown-user decoy hashed, then one verification.
    expect(spy).toHaveBeenCalledTimes(4)
    spy.mockClear()
    expect(await accounts.authenticate({ username: 'bob', password: 'b' })).toEqual({ subject: 'bob' })
    expect(spy).toHaveBeenCalledTimes(1)
  })

  it('costs an unknown user exactly one key derivation at the configured cost, like a known user', async () => {
    const accounts = localAccounts({ users: [{ username: 'alice', password: 'a' }], iterations: ITERATIONS })
    await accounts.authenticate({ username: 'alice', password: 'warm-up' })
    const spy = vi.spyOn(crypto.subtle, 'deriveBits')

    await accounts.authenticate({ username: 'alice', password: 'wrong' })
    const known = spy.mock.calls.map((call) => (call[0] as Pbkdf2Params).iterations)
    spy.mockClear()
    await accounts.authenticate({ username: 'nobody', password: 'wrong' })
    const unknown = spy.mock.calls.map((call) => (call[0] as Pbkdf2Params).iterations)
    spy.mockClear()
    await accounts.authenticate({ username: 'alice', password: 'x'.repeat(5000) })
    const overlong = spy.mock.calls.map((call) => (call[0] as Pbkdf2Params).iterations)

    expect(known).toEqual([ITERATIONS])
    expect(unknown).toEqual([ITERATIONS])
    expect(overlong).toEqual([ITERATIONS])
  })

  it('makes the first call equally expensive whatever username it names', async () => {
    const users = [
      { username: 'alice', password: 'a' },
      { username: 'bob', password: 'b' },
    ]
    const spy = vi.spyOn(crypto.subtle, 'deriveBits')
    await localAccounts({ users, iterations: ITERATIONS }).authenticate({ username: 'alice', password: 'a' })
    const knownCalls = spy.mock.calls.length
    spy.mockClear()
    await localAccounts({ users, iterations: ITERATIONS }).authenticate({ username: 'nobody', password: 'a' })
    expect(spy.mock.calls.length).toBe(knownCalls)
  })

  it('prepares once even under concurrent first calls', async () => {
    const spy = vi.spyOn(crypto.subtle, 'deriveBits')
    const accounts = localAccounts({ users: [{ username: 'alice', password: 'a' }], iterations: ITERATIONS })
    const results = await Promise.all([
      accounts.authenticate({ username: 'alice', password: 'a' }),
      accounts.authenticate({ username: 'alice', password: 'a' }),
      accounts.authenticate({ username: 'alice', password: 'nope' }),
    ])
    expect(results).toEqual([{ subject: 'alice' }, { subject: 'alice' }, undefined])
    // alice + decoy hashed once; three verifications.
    expect(spy).toHaveBeenCalledTimes(5)
  })

  it('matches usernames after NFC normalization', async () => {
    const accounts = localAccounts({
      users: [{ username: 'jos\u00e9', password: 'p' }],
      iterations: ITERATIONS,
    })
    expect(await accounts.authenticate({ username: 'jose\u0301', password: 'p' })).toEqual({
      subject: 'jos\u00e9',
    })
  })

  it('returns a copy, so callers cannot alter the stored identity', async () => {
    const accounts = localAccounts({
      users: [{ username: 'a', password: 'p', name: 'A' }],
      iterations: ITERATIONS,
    })
    const first = await accounts.authenticate({ username: 'a', password: 'p' })
    first!.subject = 'changed'
    expect(await accounts.authenticate({ username: 'a', password: 'p' })).toEqual({ subject: 'a', name: 'A' })
  })

  it('refuses configuration mistakes at construction', () => {
    expect(() =>
      localAccounts({
        users: [
          { username: 'a', password: 'x' },
          { username: 'a', password: 'y' },
        ],
      }),
    ).toThrow(TypeError)
    expect(() => localAccounts({ users: [{ username: 'a' }] })).toThrow(TypeError)
    expect(() =>
      localAccounts({ users: [{ username: 'a', password: 'x', passwordHash: 'pbkdf2-sha256$1$x$y' }] }),
    ).toThrow(TypeError)
    expect(() => localAccounts({ users: [{ username: 'a', passwordHash: 'plain-text' }] })).toThrow(TypeError)
    expect(() => localAccounts({ users: [{ username: '', password: 'x' }] })).toThrow(TypeError)
    expect(() => localAccounts({ users: [], iterations: 0 })).toThrow(TypeError)
  })

  it('ignores credentials of the wrong type without throwing', async () => {
    const accounts = localAccounts({ users: [{ username: 'a', password: 'p' }], iterations: ITERATIONS })
    const bogus = { username: 42, password: null } as unknown as { username: string; password: string }
    expect(await accounts.authenticate(bogus)).toBeUndefined()
  })
})
