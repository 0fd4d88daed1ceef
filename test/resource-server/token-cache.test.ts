import { describe, expect, it } from 'vitest'
import { TokenCache } from '../../src/resource-server/token-cache.js'

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
