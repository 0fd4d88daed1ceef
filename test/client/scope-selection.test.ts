import { describe, expect, it } from 'vitest'
import { initialScopes, stepUpScopes } from '../../src/client/index.js'

describe('initialScopes (MCP scope selection strategy)', () => {
  it('uses the challenge scope first', () => {
    expect(initialScopes({ challengeScope: 'a b', resourceScopes: ['x'], offlineAccess: false })).toEqual([
      'a',
      'b',
    ])
  })
  it('else all of scopes_supported', () => {
    expect(initialScopes({ resourceScopes: ['x', 'y'], offlineAccess: false })).toEqual(['x', 'y'])
  })
  it('else nothing (the parameter is omitted)', () => {
    expect(initialScopes({ offlineAccess: true, serverScopes: ['offline_access'] })).toEqual([])
  })
  it('adds offline_access only when the authorization server lists it', () => {
    expect(
      initialScopes({ challengeScope: 'a', serverScopes: ['a', 'offline_access'], offlineAccess: true }),
    ).toEqual(['a', 'offline_access'])
    expect(initialScopes({ challengeScope: 'a', serverScopes: ['a'], offlineAccess: true })).toEqual(['a'])
    expect(
      initialScopes({ challengeScope: 'a', serverScopes: ['offline_access'], offlineAccess: false }),
    ).toEqual(['a'])
  })
})

describe('stepUpScopes (SEP-2350)', () => {
  it('is the union of the previous request and the challenge, not of scopes_supported', () => {
    expect(
      stepUpScopes({
        previous: 'mcp:basic',
        challengeScope: 'mcp:write',
        resourceScopes: ['mcp:profile'],
        offlineAccess: false,
      }),
    ).toEqual(['mcp:basic', 'mcp:write'])
  })
  it('falls back to scopes_supported when the challenge has no scope', () => {
    expect(stepUpScopes({ previous: 'a', resourceScopes: ['b'], offlineAccess: false })).toEqual(['a', 'b'])
  })
})
