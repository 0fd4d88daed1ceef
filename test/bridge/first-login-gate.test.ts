import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { fileLoginLock, gateFirstLogin, type LoginLock } from '../../src/bridge/first-login-gate.js'
import type { McpAuthClient } from '../../src/client/flow.js'

/** An auth client whose first fetch "logs in" (slowly); later ones see the stored login. */
function fakeAuth() {
  let loggedIn = false
  let active = 0
  let maxActive = 0
  const fetches: string[] = []
  const auth: McpAuthClient = {
    async fetch(input) {
      active++
      maxActive = Math.max(maxActive, active)
      fetches.push(String(input))
      await new Promise((resolve) => setTimeout(resolve, 20))
      loggedIn = true
      active--
      return new Response('ok')
    },
    login: async () => ({ serverUrl: '', loggedIn: true, refreshable: false }),
    logout: async () => ({ revoked: false }),
    status: async (serverUrl) => ({ serverUrl, loggedIn, refreshable: false }),
    token: async () => undefined,
  }
  return { auth, fetches, maxActive: () => maxActive }
}

describe('gateFirstLogin', () => {
  it('runs requests one at a time under the lock until one has gone through, then freely', async () => {
    const { auth, fetches, maxActive } = fakeAuth()
    let locked = 0
    const lock: LoginLock = (fn) => {
      locked++
      return fn()
    }
    const fetch = gateFirstLogin(auth, 'https://mcp.example.com/mcp', lock)
    await Promise.all([fetch('https://mcp.example.com/mcp#1'), fetch('https://mcp.example.com/mcp#2')])
    expect(maxActive()).toBe(1)
    expect(locked).toBe(1)
    await Promise.all([fetch('https://mcp.example.com/mcp#3'), fetch('https://mcp.example.com/mcp#4')])
    expect(locked).toBe(1)
    expect(maxActive()).toBe(2)
    expect(fetches).toHaveLength(4)
  })

  it('takes no lock when credentials are already stored', async () => {
    const { auth } = fakeAuth()
    await auth.fetch('https://mcp.example.com/mcp')
    let locked = 0
    const fetch = gateFirstLogin(auth, 'https://mcp.example.com/mcp', (fn) => {
      locked++
      return fn()
    })
    await fetch('https://mcp.example.com/mcp')
    expect(locked).toBe(0)
  })

  it('lets the next request try again when the first one fails', async () => {
    const { auth } = fakeAuth()
    let calls = 0
    const failing: McpAuthClient = {
      ...auth,
      fetch: async (input, init) => {
        if (calls++ === 0) throw new Error('login failed')
        return auth.fetch(input, init)
      },
    }
    const fetch = gateFirstLogin(failing, 'https://mcp.example.com/mcp', (fn) => fn())
    await expect(fetch('https://mcp.example.com/mcp')).rejects.toThrow('login failed')
    expect((await fetch('https://mcp.example.com/mcp')).status).toBe(200)
  })
})

describe('fileLoginLock', () => {
  it('excludes a second holder for the same server (however its URL is spelt) and frees the file afterwards', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'portcullis-login-lock-'))
    try {
      const a = fileLoginLock(directory, 'https://mcp.example.com/mcp')
      const b = fileLoginLock(directory, 'https://MCP.example.com:443/mcp')
      const order: string[] = []
      await Promise.all([
        a(async () => {
          order.push('a:start')
          await new Promise((resolve) => setTimeout(resolve, 100))
          order.push('a:end')
        }),
        new Promise((resolve) => setTimeout(resolve, 20)).then(() =>
          b(async () => {
            order.push('b')
          }),
        ),
      ])
      expect(order).toEqual(['a:start', 'a:end', 'b'])
      expect(readdirSync(join(directory, 'locks'))).toEqual([])
    } finally {
      rmSync(directory, { recursive: true, force: true })
    }
  })
})
