import { describe, expect, it } from 'vitest'
import {
  bufferedText,
  deferredResponse,
  materialized,
} from '../../src/authorization-server/deferred-response.js'
import { jsonResponse } from '../../src/authorization-server/http.js'
import { createAuthorizationServer } from '../../src/authorization-server/server.js'
import { createMemoryStore } from '../../src/storage/memory.js'

const answer = () => jsonResponse({ error: 'invalid_grant' }, 400, { 'cache-control': 'no-store' })

describe('deferred JSON responses', () => {
  it('answer status, headers and text as a Response would, without building one', () => {
    const response = answer()
    expect(response).toBeInstanceOf(Response)
    expect(response.status).toBe(400)
    expect(response.ok).toBe(false)
    expect(response.bodyUsed).toBe(false)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(bufferedText(response)).toBe('{"error":"invalid_grant"}')
  })

  it('keep header changes made before the body is read (CORS middleware)', async () => {
    const response = answer()
    response.headers.set('access-control-allow-origin', '*')
    const real = materialized(response)
    expect(real).not.toBe(response)
    expect(real.headers.get('access-control-allow-origin')).toBe('*')
    expect(await real.json()).toEqual({ error: 'invalid_grant' })
  })

  it('build the real Response once, and report the body as used once read', async () => {
    const response = deferredResponse('{"a":1}', 200, new Headers({ 'content-type': 'application/json' }))
    expect(await response.json()).toEqual({ a: 1 })
    expect(response.bodyUsed).toBe(true)
    expect(bufferedText(response)).toBeUndefined()
    await expect(response.text()).rejects.toThrow(TypeError)
    expect(materialized(response).bodyUsed).toBe(true)
  })

  it('leave other responses alone', () => {
    const plain = new Response('x')
    expect(materialized(plain)).toBe(plain)
    expect(bufferedText(plain)).toBeUndefined()
  })

  it('never leave the portable fetch: it answers genuine Responses', async () => {
    const as = createAuthorizationServer({
      issuer: 'https://as.example.com',
      store: await createMemoryStore(),
      resources: [{ uri: 'https://mcp.example.com/mcp', scopes: { 'mcp:tools': 'Use the tools' } }],
      login: { currentUser: async () => undefined },
      cookieSecret: 'c'.repeat(43),
    })
    const response = await as.fetch(
      new Request('https://as.example.com/token', {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=refresh_token&refresh_token=x&client_id=unknown',
      }),
    )
    expect(bufferedText(response)).toBeUndefined()
    // A brand check only a genuine Response passes.
    const status = Object.getOwnPropertyDescriptor(Response.prototype, 'status')!.get!
    expect(status.call(response)).toBe(response.status)
    expect((await response.json()) as { error: string }).toHaveProperty('error')
  })
})

describe('deferred JSON responses returned from async functions', () => {
  it('are not built by the thenable probe', async () => {
    const Original = globalThis.Response
    let built = 0
    globalThis.Response = class extends Original {
      constructor(...args: ConstructorParameters<typeof Response>) {
        super(...args)
        built++
      }
    }
    try {
      const response = answer()
      const returned = await (async () => response)()
      expect(returned).toBe(response)
      expect(built).toBe(0)
      expect(await materialized(response).json()).toEqual({ error: 'invalid_grant' })
      expect(built).toBe(1)
    } finally {
      globalThis.Response = Original
    }
  })
})
