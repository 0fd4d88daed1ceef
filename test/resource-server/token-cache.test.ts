import { describe, expect, it } from 'vitest'
import { TOKEN_KEY_TAIL, TokenCache, tokenKeyFunction } from '../../src/resource-server/token-cache.js'

describe('TokenCache', () => {
  it('returns live entries and drops stale ones', () => {
    const cache = new TokenCache<string>(10)
    cache.set('a', 'A', 1000)
    expect(cache.get('a', 999)).toBe('A')
    expect(cache.get('a', 1000)).toBeUndefined()
    expect(cache.has('a')).toBe(false)
  })

  it('never holds more than its bound, evicting the oldest unread entry first', () => {
    const cache = new TokenCache<number>(3)
    cache.set('a', 1, 10_000)
    cache.set('b', 2, 10_000)
    cache.set('c', 3, 10_000)
    // `a` was read: it gets a second chance, so `b` (the oldest unread) goes.
    expect(cache.get('a', 0)).toBe(1)
    cache.set('d', 4, 10_000)
    expect(cache.size).toBe(3)
    expect([cache.has('a'), cache.has('b'), cache.has('c'), cache.has('d')]).toEqual([
      true,
      false,
      true,
      true,
    ])
    // `a` moved behind `c`, so `c` goes next, then `a`, its second chance used up.
    cache.set('e', 5, 10_000)
    expect([cache.has('a'), cache.has('c')]).toEqual([true, false])
    cache.set('f', 6, 10_000)
    expect([cache.has('a'), cache.has('d'), cache.has('e'), cache.has('f')]).toEqual([
      false,
      true,
      true,
      true,
    ])
    expect(cache.size).toBe(3)
  })

  it('stays bounded when every entry was read (a full sweep of second chances)', () => {
    const cache = new TokenCache<number>(50)
    for (let i = 0; i < 50; i++) cache.set(`k${i}`, i, 10_000)
    for (let i = 0; i < 50; i++) cache.get(`k${i}`, 0)
    cache.set('new', 50, 10_000)
    expect(cache.size).toBe(50)
    expect(cache.has('new')).toBe(true)
    expect(cache.has('k0')).toBe(false)
  })

  it('holds nothing with a bound of 0', () => {
    const cache = new TokenCache<number>(0)
    cache.set('a', 1, 10_000)
    expect(cache.get('a', 0)).toBeUndefined()
    expect(cache.size).toBe(0)
  })
})

describe('tokenKeyFunction', () => {
  const jwt = `eyJhbGciOiJFUzI1NiJ9.${'eyJzdWIiOiJhbGljZSJ9'.repeat(10)}.${'s1gnature-'.repeat(9)}`

  it('gives one token one key, a safe integer, and another key to another token', () => {
    const key = tokenKeyFunction()
    expect(key(jwt)).toBe(key(`${jwt}`))
    expect(Number.isSafeInteger(key(jwt))).toBe(true)
    expect(key(jwt)).toBeGreaterThanOrEqual(0)
    expect(key(`${jwt.slice(0, -1)}X`)).not.toBe(key(jwt))
    expect(key(`${jwt}A`)).not.toBe(key(jwt))
    expect(key('short')).not.toBe(key('shorT'))
    expect(key('')).toBe(key(''))
  })

  it('looks only at the length and the last TOKEN_KEY_TAIL characters (a hit is confirmed on the whole token)', () => {
    const key = tokenKeyFunction()
    const head = `${jwt.slice(0, 5)}Z${jwt.slice(6)}`
    expect(head).not.toBe(jwt)
    expect(key(head)).toBe(key(jwt))
    const withinTail = `${jwt.slice(0, -TOKEN_KEY_TAIL)}Z${jwt.slice(-TOKEN_KEY_TAIL + 1)}`
    expect(key(withinTail)).not.toBe(key(jwt))
  })

  it("is seeded per instance: no one can compute another cache's keys", () => {
    const keys = new Set(Array.from({ length: 20 }, () => tokenKeyFunction()(jwt)))
    expect(keys.size).toBe(20)
  })

  it('spreads random tokens without collisions', () => {
    const key = tokenKeyFunction()
    const seen = new Set<number>()
    for (let i = 0; i < 20_000; i++)
      seen.add(key(`${jwt.slice(0, 40)}.${crypto.randomUUID()}${crypto.randomUUID()}`))
    expect(seen.size).toBe(20_000)
  })
})
