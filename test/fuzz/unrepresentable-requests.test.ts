/**
 * Requests that Node's HTTP parser accepts but a web `Request` cannot carry — a `TRACE` method,
 * a target like `//[` that is no URL — are the client's fault: the Node entry points must answer
 * them with a 4xx, never a 500. Found by the fuzz run.
 */
import { createServer, type RequestListener, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { localAccounts } from '../../src/authorization-server/index.js'
import { createNodeAuthorizationServer } from '../../src/node/authorization-server.js'
import { jwtVerifier, nodeAuthenticate, protectedResource } from '../../src/node/resource-server.js'
import { createMemoryStore } from '../../src/storage/index.js'
import { sendRaw } from './requests.js'

const CASES: [method: string, target: string][] = [
  ['TRACE', '/token'],
  ['TRACK', '/token'],
  ['GET', '//['],
  ['POST', '//['],
]

let server: Server | undefined

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve))
  server = undefined
})

async function listen(listener: RequestListener): Promise<number> {
  server = createServer(listener)
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function statuses(port: number): Promise<(number | undefined)[]> {
  const result: (number | undefined)[] = []
  for (const [method, target] of CASES) {
    const answer = await sendRaw(port, {
      server: 'as',
      method,
      target: Buffer.from(target),
      headers: [],
      body: Buffer.alloc(0),
    })
    result.push(answer.status)
  }
  return result
}

describe('requests a web Request cannot represent', () => {
  it('get a 400 from the authorization server listener', async () => {
    const as = createNodeAuthorizationServer({
      issuer: 'http://127.0.0.1:1',
      store: await createMemoryStore(),
      resources: [{ uri: 'http://127.0.0.1:2/mcp', scopes: { 'notes:read': 'Read' } }],
      login: localAccounts({ users: [{ username: 'u', password: 'p' }], iterations: 1000 }),
      cookieSecret: 'x'.repeat(32),
      cimd: false,
      onAudit: () => {},
    })
    const port = await listen((req, res) => void as.listener(req, res))
    expect(await statuses(port)).toEqual([400, 400, 400, 400])
  })

  it('get a 4xx from the resource server guard instead of a rejection', async () => {
    const rs = protectedResource({
      resource: 'http://127.0.0.1:2/mcp',
      authorizationServers: ['http://127.0.0.1:1'],
      verifier: jwtVerifier({
        issuer: 'http://127.0.0.1:1',
        audience: 'http://127.0.0.1:2/mcp',
        jwks: { keys: [] },
      }),
    })
    const port = await listen((req, res) => {
      nodeAuthenticate(rs, req, res).then(
        (ok) => {
          if (ok !== undefined) res.writeHead(200).end()
        },
        () => {
          // What every embedding does with a rejected guard: the server's own 500.
          if (!res.headersSent) res.writeHead(500).end()
        },
      )
    })
    const answers = await statuses(port)
    expect(answers.every((s) => s !== undefined && s >= 400 && s < 500)).toBe(true)
  })
})
