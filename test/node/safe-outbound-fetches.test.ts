import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect as netConnect } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CIMD_MAX_BYTES } from '../../src/authorization-server/clients/cimd.js'
import { safeOutboundFetches } from '../../src/node/authorization-server.js'
import { NetworkPolicyError, type NetworkPolicyErrorCode } from '../../src/node/errors.js'
import type { Connector } from '../../src/node/safe-fetch/connect.js'

// Sockets go to 127.0.0.1 only: the private target below exists only as an answer of the injected
// resolver, and the connector refuses anything that is not loopback.
const loopbackOnly: Connector = (target) => {
  if (target.host !== '127.0.0.1') throw new Error(`test connector refused ${target.host}`)
  return netConnect({ host: target.host, port: target.port })
}

let server: Server
let origin: string

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/small' }).end()
      return
    }
    if (req.url === '/html') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>')
      return
    }
    // A JSON document just over the CIMD cap, well under the 64 KiB of the other fetch.
    const size = req.url === '/large' ? CIMD_MAX_BYTES + 1 : 10
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify('x'.repeat(size - 2)))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

async function refusal(promise: Promise<unknown>, code: NetworkPolicyErrorCode): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(NetworkPolicyError)
  await expect(promise).rejects.toMatchObject({ code })
}

const loopbackAllowed = { safeFetch: { allowLoopback: true, connect: loopbackOnly } }

describe('safeOutboundFetches', () => {
  it('caps Client ID Metadata Documents at 5 KiB and key sets at 64 KiB', async () => {
    const { fetch, cimd } = safeOutboundFetches(loopbackAllowed)
    if (cimd === undefined) throw new Error('CIMD is on by default')
    expect((await (await fetch(`${origin}/large`)).text()).length).toBe(CIMD_MAX_BYTES + 1)
    await refusal(
      cimd.fetch(`${origin}/large`).then((r) => r.text()),
      'ERR_BODY_TOO_LARGE',
    )
    expect(await (await cimd.fetch(`${origin}/small`)).json()).toBe('x'.repeat(8))
  })

  it('follows no redirect and accepts only JSON, in both fetches', async () => {
    const { fetch, cimd } = safeOutboundFetches(loopbackAllowed)
    if (cimd === undefined) throw new Error('CIMD is on by default')
    for (const get of [fetch, cimd.fetch]) {
      await refusal(get(`${origin}/redirect`), 'ERR_TOO_MANY_REDIRECTS')
      await refusal(get(`${origin}/html`), 'ERR_CONTENT_TYPE')
    }
  })

  it('refuses private addresses unless told otherwise', async () => {
    const lookup = async () => [{ address: '10.0.0.7', family: 4 as const }]
    const { fetch, cimd } = safeOutboundFetches({ safeFetch: { lookup, connect: loopbackOnly } })
    if (cimd === undefined) throw new Error('CIMD is on by default')
    await refusal(fetch('https://keys.example/jwks.json'), 'ERR_ADDRESS_NOT_ALLOWED')
    await refusal(cimd.fetch('https://app.example/client.json'), 'ERR_ADDRESS_NOT_ALLOWED')
  })

  it('keeps the fetches and CIMD options it is given, and leaves CIMD off when disabled', () => {
    const own = async () => new Response('{}')
    expect(safeOutboundFetches({ fetch: own, cimd: false })).toEqual({ fetch: own })
    const given = safeOutboundFetches({ cimd: { fetch: own, cacheMaxMs: 1000, allowHosts: ['app.example'] } })
    expect(given.cimd).toEqual({ fetch: own, cacheMaxMs: 1000, allowHosts: ['app.example'] })
    expect(typeof given.fetch).toBe('function')
    expect(given.fetch).not.toBe(own)
  })
})
