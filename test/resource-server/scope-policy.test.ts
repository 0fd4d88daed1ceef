import { describe, expect, it } from 'vitest'
import { ResourceServerError } from '../../src/resource-server/errors.js'
import {
  BODY_TOO_LARGE,
  compileScopePolicy,
  scopesForMessages,
  scopesForRequest,
} from '../../src/resource-server/scope-policy.js'

const policy = compileScopePolicy({
  default: ['mcp'],
  methods: { 'resources/read': ['docs:read'], 'tools/call': ['tools'] },
  tools: { delete_file: ['files:write'], read_file: ['files:read'] },
})

describe('scope policy', () => {
  it('adds method and tool requirements to the default set', () => {
    expect(scopesForMessages(policy, { jsonrpc: '2.0', id: 1, method: 'tools/list' })).toEqual(['mcp'])
    expect(
      scopesForMessages(policy, { jsonrpc: '2.0', id: 1, method: 'resources/read', params: {} }),
    ).toEqual(['mcp', 'docs:read'])
    expect(
      scopesForMessages(policy, {
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'delete_file' },
      }),
    ).toEqual(['mcp', 'tools', 'files:write'])
  })

  it('takes the union over a batch', () => {
    const batch = [
      { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file' } },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'delete_file' } },
    ]
    expect(scopesForMessages(policy, batch)).toEqual(['mcp', 'tools', 'files:read', 'files:write'])
  })

  it('ignores what is not a message, and names that are not strings', () => {
    expect(
      scopesForMessages(policy, [null, 3, 'x', { method: 'tools/call', params: { name: ['delete_file'] } }]),
    ).toEqual(['mcp', 'tools'])
    // A prototype key is not a tool name.
    expect(scopesForMessages(policy, { method: 'tools/call', params: { name: '__proto__' } })).toEqual([
      'mcp',
      'tools',
    ])
  })

  it('reads the body from a clone, falls back to the default set on bad JSON, and refuses huge bodies', async () => {
    const request = new Request('https://x.example/mcp', {
      method: 'POST',
      body: JSON.stringify({ method: 'tools/call', params: { name: 'delete_file' } }),
    })
    expect(await scopesForRequest(request, policy, 1024)).toEqual(['mcp', 'tools', 'files:write'])
    expect(await request.json()).toMatchObject({ method: 'tools/call' })
    const bad = new Request('https://x.example/mcp', { method: 'POST', body: '{not json' })
    expect(await scopesForRequest(bad, policy, 1024)).toEqual(['mcp'])
    const big = new Request('https://x.example/mcp', { method: 'POST', body: 'x'.repeat(2048) })
    expect(await scopesForRequest(big, policy, 1024)).toBe(BODY_TOO_LARGE)
  })

  it('does not read the body when no requirement depends on it', async () => {
    const simple = compileScopePolicy({ default: ['a'] })
    expect(simple.readsBody).toBe(false)
    const request = new Request('https://x.example/mcp', { method: 'POST', body: '{}' })
    expect(await scopesForRequest(request, simple, 10)).toEqual(['a'])
    expect(request.bodyUsed).toBe(false)
  })

  it('rejects invalid scopes and offline_access at compile time', () => {
    expect(() => compileScopePolicy({ default: ['a b'] })).toThrow(ResourceServerError)
    expect(() => compileScopePolicy({ default: [], tools: { x: ['offline_access'] } })).toThrow(
      ResourceServerError,
    )
    expect(() => compileScopePolicy({ default: 'a' as unknown as string[] })).toThrow(ResourceServerError)
  })
})
