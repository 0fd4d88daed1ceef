import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { honoNodeHead, nodeRequestHead } from '../../../src/node/resource-server.js'

/** What `Headers.get` makes of the same raw header list: the reference. */
function viaHeaders(raw: string[]) {
  const headers = new Headers()
  for (let i = 0; i < raw.length; i += 2) headers.append(raw[i]!, raw[i + 1]!)
  return { authorization: headers.get('authorization'), contentType: headers.get('content-type') }
}

describe('nodeRequestHead', () => {
  it('reads Authorization and Content-Type exactly as Headers.get would', () => {
    const cases: string[][] = [
      [],
      ['Host', 'x', 'Accept', '*/*'],
      ['authorization', 'Bearer abc', 'content-type', 'application/json'],
      ['Authorization', 'Bearer abc', 'AUTHORIZATION', 'Bearer def'],
      ['authorization', ' \tBearer abc \t', 'Content-Type', ' text/plain '],
      ['authorization', 'Bearer abc\u00a0'],
      ['content-type', 'a', 'content-type', 'b', 'authorization', ''],
      ['authorizations', 'Bearer x', 'content-typ', 'y', 'x-authorization', 'Bearer z'],
    ]
    for (const raw of cases) expect(nodeRequestHead({ rawHeaders: raw })).toEqual(viaHeaders(raw))
  })
})

describe('honoNodeHead', () => {
  async function start(passEnv: boolean) {
    const app = new Hono()
    app.all('/head', (c) => c.json({ head: honoNodeHead(c) ?? null, viaRequest: viaRequest(c.req.raw) }))
    const server = serve({
      fetch: passEnv ? app.fetch : (request) => app.fetch(request),
      port: 0,
      hostname: '127.0.0.1',
    })
    await new Promise((resolve) => server.once('listening', resolve))
    return server
  }
  const viaRequest = (request: Request) => ({
    authorization: request.headers.get('authorization'),
    contentType: request.headers.get('content-type'),
  })
  const get = (port: number, raw: string[]) =>
    new Promise<{ head: unknown; viaRequest: unknown }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: '127.0.0.1',
          port,
          path: '/head',
          method: 'POST',
          headers: ['host', `127.0.0.1:${port}`, ...raw],
        },
        (res) => {
          let text = ''
          res.on('data', (chunk) => {
            text += chunk
          })
          res.on('end', () => resolve(JSON.parse(text)))
        },
      )
      req.on('error', reject)
      req.end('{}')
    })

  it('on @hono/node-server, gives the values the Request would, every Authorization line included', async () => {
    const server = await start(true)
    try {
      const { port } = server.address() as AddressInfo
      for (const raw of [
        ['authorization', 'Bearer one', 'Authorization', 'Bearer two', 'content-type', 'application/json'],
        ['content-type', 'application/x-www-form-urlencoded'],
        ['authorization', 'Bearer only'],
      ]) {
        const seen = await get(port, raw)
        expect(seen.head).toEqual(seen.viaRequest)
        expect(seen.head).not.toBeNull()
      }
    } finally {
      server.close()
    }
  })

  it('is undefined when the env does not reach the app, so honoAuth reads the Request', async () => {
    const server = await start(false)
    try {
      const { port } = server.address() as AddressInfo
      expect((await get(port, ['authorization', 'Bearer one'])).head).toBeNull()
    } finally {
      server.close()
    }
  })
})
