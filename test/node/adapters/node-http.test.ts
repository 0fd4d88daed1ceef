import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { toNodeHandler } from '../../../src/node/adapters/node-http.js'
import { nodeAuthenticate, protectedResource } from '../../../src/node/resource-server.js'
import { jwtVerifier } from '../../../src/resource-server/index.js'
import { createSigner, ISSUER, toolCall } from '../../resource-server/support.js'

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

function close(server: Server): Promise<void> {
  server.closeAllConnections()
  return new Promise((resolve) => server.close(() => resolve()))
}

describe('toNodeHandler', () => {
  it('bridges method, URL, headers (repeated ones kept), body, status, headers and cookies', async () => {
    const seen: { method?: string; url?: string; auth?: string | null; body?: string } = {}
    const server = createServer(
      toNodeHandler(async (request) => {
        seen.method = request.method
        seen.url = request.url
        seen.auth = request.headers.get('authorization')
        seen.body = await request.text()
        const headers = new Headers({ 'x-test': 'yes' })
        headers.append('set-cookie', 'a=1')
        headers.append('set-cookie', 'b=2')
        return new Response('hello', { status: 201, headers })
      }),
    )
    const origin = await listen(server)
    try {
      const { status, headers, body } = await new Promise<{
        status: number
        headers: Record<string, unknown>
        body: string
      }>((resolve, reject) => {
        const req = httpRequest(
          `${origin}/p?q=1`,
          {
            method: 'PUT',
            headers: ['host', new URL(origin).host, 'authorization', 'A', 'authorization', 'B'],
          },
          (res) => {
            let text = ''
            res.on('data', (c) => (text += c))
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }))
          },
        )
        req.on('error', reject)
        req.end('payload')
      })
      expect(status).toBe(201)
      expect(body).toBe('hello')
      expect(headers['x-test']).toBe('yes')
      expect(headers['set-cookie']).toEqual(['a=1', 'b=2'])
      expect(seen).toEqual({ method: 'PUT', url: `${origin}/p?q=1`, auth: 'A, B', body: 'payload' })
    } finally {
      await close(server)
    }
  })

  it('answers 500 when the handler throws, and keeps serving', async () => {
    const errors: unknown[] = []
    let fail = true
    const server = createServer(
      toNodeHandler(
        () => {
          if (fail) throw new Error('boom')
          return new Response('ok')
        },
        { onError: (e) => errors.push(e) },
      ),
    )
    const origin = await listen(server)
    try {
      expect((await fetch(origin)).status).toBe(500)
      fail = false
      expect(await (await fetch(origin)).text()).toBe('ok')
      expect(errors).toHaveLength(1)
    } finally {
      await close(server)
    }
  })
})

describe('nodeAuthenticate', () => {
  it('serves metadata, challenges, and hands over AuthInfo plus the body it read', async () => {
    const signer = await createSigner()
    let resource = ''
    let rs: ReturnType<typeof protectedResource> | undefined
    const handled: { sub?: string | undefined; body?: unknown }[] = []
    const server = createServer(async (req, res) => {
      const ok = await nodeAuthenticate(rs!, req, res)
      if (ok === undefined) return
      handled.push({ sub: ok.auth.subject, body: JSON.parse(ok.body.toString('utf8')) })
      res.end('done')
    })
    const origin = await listen(server)
    resource = `${origin}/mcp`
    rs = protectedResource({
      resource,
      authorizationServers: [ISSUER],
      verifier: jwtVerifier({ issuer: ISSUER, audience: resource, jwks: signer.jwks }),
      scopes: { default: ['files:read'], tools: { delete_file: ['files:write'] } },
    })
    try {
      expect((await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)).status).toBe(200)
      const token = await signer.sign({ aud: resource, sub: 'dave' })
      const post = (name: string) =>
        fetch(resource, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(toolCall(name)),
        })
      expect((await post('read_file')).status).toBe(200)
      expect((await post('delete_file')).status).toBe(403)
      expect((await fetch(resource, { method: 'POST', body: '{}' })).status).toBe(401)
      expect(handled).toEqual([{ sub: 'dave', body: toolCall('read_file') }])
    } finally {
      await close(server)
    }
  })
})
