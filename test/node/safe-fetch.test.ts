import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import { type AddressInfo, isIP, connect as netConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TLSSocket } from 'node:tls'
import { gzipSync } from 'node:zlib'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { NetworkPolicyError, type NetworkPolicyErrorCode } from '../../src/node/errors.js'
import type { Connector, ConnectTarget } from '../../src/node/safe-fetch/connect.js'
import type { ResolvedAddress } from '../../src/node/safe-fetch/resolve.js'
import { createSafeFetch, type SafeFetchOptions } from '../../src/node/safe-fetch/safe-fetch.js'

// Every socket in this file goes to 127.0.0.1. Private, link-local and metadata targets exist only
// as answers of the injected resolver; the injected connector refuses to open anything that is not
// loopback, so a broken guard fails a test instead of sending a packet.

interface TestServer {
  server: Server
  port: number
  origin: string
  connections: number
  requests: IncomingMessage[]
  bytesReceived: number
}

const servers: Server[] = []

async function listen(server: Server): Promise<number> {
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return (server.address() as AddressInfo).port
}

async function startServer(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<TestServer> {
  const state = { connections: 0, requests: [] as IncomingMessage[], bytesReceived: 0 }
  const server = createServer((req, res) => {
    state.requests.push(req)
    handler(req, res)
  })
  server.on('connection', (socket) => {
    state.connections++
    socket.on('data', (chunk: Buffer) => {
      state.bytesReceived += chunk.length
    })
  })
  const port = await listen(server)
  return Object.assign(state, { server, port, origin: `http://127.0.0.1:${port}` })
}

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections?.()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

/** A resolver with a fixed table; records every question. */
function tableResolver(table: Record<string, string | string[]>) {
  const calls: string[] = []
  const lookup = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname)
    const answer = table[hostname]
    if (answer === undefined) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' })
    return (Array.isArray(answer) ? answer : [answer]).map((address) => ({
      address,
      family: isIP(address) === 6 ? 6 : 4,
    }))
  }
  return { lookup, calls }
}

/** Records every connection attempt; opens only loopback connections and throws on anything else. */
function loopbackOnlyConnector() {
  const calls: ConnectTarget[] = []
  const connect: Connector = (target) => {
    calls.push(target)
    if (target.host !== '127.0.0.1' && target.host !== '::1') {
      throw new Error(`test connector refused ${target.host}`)
    }
    return netConnect({ host: target.host, port: target.port })
  }
  return { connect, calls }
}

/** Every fetch in this file gets the loopback-only connector unless a test brings its own. */
function safeFetchFor(options: SafeFetchOptions = {}) {
  return createSafeFetch({ connect: loopbackOnlyConnector().connect, ...options })
}

async function refusal(promise: Promise<unknown>, code: NetworkPolicyErrorCode): Promise<NetworkPolicyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(NetworkPolicyError)
  expect((error as NetworkPolicyError).code).toBe(code)
  return error as NetworkPolicyError
}

const json = (res: ServerResponse, body: unknown, status = 200) => {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

describe('createSafeFetch: loopback for development', () => {
  it('fetches from a loopback server when loopback is allowed, returning a web Response', async () => {
    const s = await startServer((req, res) =>
      json(res, { path: req.url, host: req.headers.host, ua: req.headers['user-agent'] }),
    )
    const safeFetch = safeFetchFor({ allowLoopback: true })
    const response = await safeFetch(`${s.origin}/doc?x=1#frag`)
    expect(response).toBeInstanceOf(Response)
    expect(response.status).toBe(200)
    expect(response.url).toBe(`${s.origin}/doc?x=1`)
    expect(response.redirected).toBe(false)
    expect(response.headers.get('content-type')).toBe('application/json')
    expect(await response.json()).toEqual({ path: '/doc?x=1', host: `127.0.0.1:${s.port}`, ua: 'portcullis' })
  })

  it('sends the method, headers and body of a Request input', async () => {
    const s = await startServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => {
        body += c.toString()
      })
      req.on('end', () =>
        json(res, {
          method: req.method,
          body,
          type: req.headers['content-type'],
          auth: req.headers.authorization,
        }),
      )
    })
    const safeFetch = safeFetchFor({ allowLoopback: true, userAgent: 'test-agent' })
    const request = new Request(`${s.origin}/token`, {
      method: 'POST',
      headers: { authorization: 'Basic abc' },
      body: new URLSearchParams({ grant_type: 'client_credentials' }),
    })
    const response = await safeFetch(request)
    expect(await response.json()).toEqual({
      method: 'POST',
      body: 'grant_type=client_credentials',
      type: 'application/x-www-form-urlencoded;charset=UTF-8',
      auth: 'Basic abc',
    })
    expect(s.requests[0]?.headers['user-agent']).toBe('test-agent')
  })

  it('refuses http: to loopback unless loopback is allowed, before connecting', async () => {
    const s = await startServer((_req, res) => json(res, {}))
    await refusal(safeFetchFor()(`${s.origin}/`), 'ERR_SCHEME_NOT_ALLOWED')
    expect(s.connections).toBe(0)
  })
})

describe('createSafeFetch: schemes and userinfo', () => {
  it.each([
    'file:///etc/passwd',
    'ftp://ftp.example.com/x',
    'data:application/json,{}',
    'gopher://127.0.0.1:6379/_INFO',
    'javascript:alert(1)',
  ])('refuses %s', async (url) => {
    const { lookup, calls } = tableResolver({})
    await refusal(safeFetchFor({ allowLoopback: true, lookup })(url), 'ERR_SCHEME_NOT_ALLOWED')
    expect(calls).toEqual([])
  })

  it('refuses http: to a name without asking the resolver', async () => {
    const { lookup, calls } = tableResolver({ 'api.example.com': '8.8.8.8' })
    await refusal(safeFetchFor({ lookup })('http://api.example.com/'), 'ERR_SCHEME_NOT_ALLOWED')
    expect(calls).toEqual([])
  })

  it('refuses http: to a name that resolves to a non-loopback address, even with loopback allowed', async () => {
    const { lookup } = tableResolver({ 'api.example.com': '8.8.8.8' })
    const { connect, calls } = loopbackOnlyConnector()
    const error = await refusal(
      safeFetchFor({ allowLoopback: true, lookup, connect })('http://api.example.com/'),
      'ERR_SCHEME_NOT_ALLOWED',
    )
    expect(error.detail).toContain('8.8.8.8')
    expect(calls).toEqual([])
  })

  it('refuses userinfo before anything else happens', async () => {
    const s = await startServer((_req, res) => json(res, {}))
    const { lookup, calls } = tableResolver({ 'api.example.com': '8.8.8.8' })
    const safeFetch = safeFetchFor({ allowLoopback: true, lookup })
    await refusal(safeFetch('https://user:pass@api.example.com/'), 'ERR_USERINFO')
    await refusal(safeFetch(`http://user@127.0.0.1:${s.port}/`), 'ERR_USERINFO')
    await refusal(safeFetch(`http://:secret@127.0.0.1:${s.port}/`), 'ERR_USERINFO')
    expect(calls).toEqual([])
    expect(s.connections).toBe(0)
  })

  it('refuses a string that is not a URL', async () => {
    await refusal(safeFetchFor()('not a url'), 'ERR_INVALID_URL')
  })
})

describe('createSafeFetch: addresses', () => {
  it('refuses a public-looking name that resolves to 127.0.0.1, and never connects', async () => {
    const s = await startServer((_req, res) => json(res, {}))
    const { lookup } = tableResolver({ 'metadata.example.com': '127.0.0.1' })
    const { connect, calls } = loopbackOnlyConnector()
    const error = await refusal(
      safeFetchFor({ lookup, connect })(`https://metadata.example.com:${s.port}/`),
      'ERR_ADDRESS_NOT_ALLOWED',
    )
    expect(error.range).toBe('loopback')
    expect(calls).toEqual([])
    expect(s.connections).toBe(0)
  })

  it.each([
    ['10.0.0.1', 'private'],
    ['172.16.5.4', 'private'],
    ['192.168.0.10', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['198.18.0.1', 'reserved'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['fd00::1', 'uniqueLocal'],
    ['fe80::1', 'linkLocal'],
    ['fe80::1%eth0', 'linkLocal'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:a9fe:a9fe', 'linkLocal'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['2002:0a00:0001::', 'private'],
    ['64:ff9b::a9fe:a9fe', 'linkLocal'],
    ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'],
  ])('refuses a name resolving to %s (%s) before any connection', async (address, range) => {
    const { lookup, calls: lookups } = tableResolver({ 'cimd.example.com': address })
    const { connect, calls } = loopbackOnlyConnector()
    const error = await refusal(
      safeFetchFor({ lookup, connect })('https://cimd.example.com/client.json'),
      'ERR_ADDRESS_NOT_ALLOWED',
    )
    expect(error.range).toBe(range)
    expect(error.detail).toContain('resolved')
    expect(lookups).toEqual(['cimd.example.com'])
    expect(calls).toEqual([])
  })

  it('refuses when any one answer is private, even behind a public one', async () => {
    const { lookup } = tableResolver({ 'mixed.example.com': ['8.8.8.8', '10.0.0.1'] })
    const { connect, calls } = loopbackOnlyConnector()
    const error = await refusal(
      safeFetchFor({ lookup, connect })('https://mixed.example.com/'),
      'ERR_ADDRESS_NOT_ALLOWED',
    )
    expect(error.range).toBe('private')
    expect(calls).toEqual([])
  })

  it.each([
    'https://2130706433:PORT/',
    'https://0x7f000001:PORT/',
    'https://0177.0.0.1:PORT/',
    'https://127.1:PORT/',
    'https://127.0.0.1:PORT/',
    'https://[::ffff:127.0.0.1]:PORT/',
    'https://0.0.0.0:PORT/',
    'https://[::]:PORT/',
  ])('refuses the IP literal %s without DNS and without connecting', async (template) => {
    const s = await startServer((_req, res) => json(res, {}))
    const { lookup, calls: lookups } = tableResolver({})
    const { connect, calls } = loopbackOnlyConnector()
    await refusal(
      safeFetchFor({ lookup, connect })(template.replace('PORT', String(s.port))),
      'ERR_ADDRESS_NOT_ALLOWED',
    )
    expect(lookups).toEqual([])
    expect(calls).toEqual([])
    expect(s.connections).toBe(0)
  })

  it.each([
    ['https://169.254.169.254/latest/meta-data/', 'linkLocal'],
    ['https://[::ffff:a9fe:a9fe]/latest/meta-data/', 'linkLocal'],
    ['https://[::ffff:169.254.169.254]/', 'linkLocal'],
    ['https://[fd00::1]/', 'uniqueLocal'],
    ['https://[64:ff9b::a9fe:a9fe]/', 'linkLocal'],
    ['https://10.0.0.1/', 'private'],
    ['https://0xa9.0xfe.0xa9.0xfe/', 'linkLocal'],
    ['https://2852039166/', 'linkLocal'],
  ])('refuses the literal %s before connecting', async (url, range) => {
    const { connect, calls } = loopbackOnlyConnector()
    const error = await refusal(
      safeFetchFor({ allowLoopback: true, connect })(url),
      'ERR_ADDRESS_NOT_ALLOWED',
    )
    expect(error.range).toBe(range)
    expect(calls).toEqual([])
  })

  it('reports a name that does not resolve as ERR_DNS', async () => {
    const { lookup } = tableResolver({ 'empty.example.com': [] })
    const safeFetch = safeFetchFor({ lookup })
    await refusal(safeFetch('https://nowhere.example.com/'), 'ERR_DNS')
    await refusal(safeFetch('https://empty.example.com/'), 'ERR_DNS')
  })
})

describe('createSafeFetch: DNS rebinding', () => {
  // The resolver says 93.184.216.34 (global); the simulated network delivers the connection to
  // this machine instead. The connector never opens anything but a loopback socket.
  function reroutingConnector(port: number) {
    const calls: ConnectTarget[] = []
    const connect: Connector = (target) => {
      calls.push(target)
      return netConnect({ host: '127.0.0.1', port })
    }
    return { connect, calls }
  }

  it('checks the address the socket connected to, and writes nothing to a refused peer', async () => {
    const s = await startServer((_req, res) => json(res, { secret: 'internal' }))
    let lookups = 0
    // First answer global, every later answer loopback: a TTL-0 rebinding attempt.
    const lookup = async (): Promise<ResolvedAddress[]> => [
      { address: lookups++ === 0 ? '93.184.216.34' : '127.0.0.1', family: 4 },
    ]
    const { connect, calls } = reroutingConnector(s.port)
    const error = await refusal(
      safeFetchFor({ lookup, connect })(`https://rebind.example.com:${s.port}/`),
      'ERR_ADDRESS_NOT_ALLOWED',
    )
    expect(error.range).toBe('loopback')
    expect(error.detail).toContain('connected')
    // Resolved once, and the connection went to the address that was checked.
    expect(lookups).toBe(1)
    expect(calls).toEqual([{ host: '93.184.216.34', port: s.port, family: 4 }])
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(s.bytesReceived).toBe(0)
    expect(s.requests).toHaveLength(0)
  })
})

describe('createSafeFetch: TLS', () => {
  let dir: string
  let key: string
  let cert: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-tls-'))
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:P-256',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=api.example.com',
        '-addext',
        'subjectAltName=DNS:api.example.com,DNS:rebind.example.com,IP:127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    )
    key = readFileSync(join(dir, 'key.pem'), 'utf8')
    cert = readFileSync(join(dir, 'cert.pem'), 'utf8')
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  async function startTls() {
    const servernames: Array<string | false | null> = []
    const server = createHttpsServer({ key, cert }, (_req, res) => json(res, { ok: true }))
    server.on('secureConnection', (socket: TLSSocket) => {
      servernames.push(socket.servername)
    })
    const port = await listen(server)
    return { port, servernames }
  }

  it('connects to the pinned address with SNI and certificate checks on the URL host name', async () => {
    const { port, servernames } = await startTls()
    const { lookup } = tableResolver({ 'api.example.com': '127.0.0.1' })
    const safeFetch = safeFetchFor({ allowLoopback: true, lookup, ca: cert })
    const response = await safeFetch(`https://api.example.com:${port}/`)
    expect(await response.json()).toEqual({ ok: true })
    expect(servernames).toEqual(['api.example.com'])
  })

  it('verifies an IP-literal host against the certificate without sending an IP as SNI', async () => {
    const { port, servernames } = await startTls()
    const response = await safeFetchFor({ allowLoopback: true, ca: cert })(`https://127.0.0.1:${port}/`)
    expect(response.status).toBe(200)
    expect(servernames).toEqual([false])
  })

  it('refuses a certificate that is not trusted, or not for the host', async () => {
    const { port } = await startTls()
    const { lookup } = tableResolver({ 'api.example.com': '127.0.0.1', 'other.example.com': '127.0.0.1' })
    await refusal(
      safeFetchFor({ allowLoopback: true, lookup })(`https://api.example.com:${port}/`),
      'ERR_CONNECTION',
    )
    await refusal(
      safeFetchFor({ allowLoopback: true, lookup, ca: cert })(`https://other.example.com:${port}/`),
      'ERR_CONNECTION',
    )
  })

  it('lets a rebinding target through only when loopback is allowed (the socket check is what refuses it)', async () => {
    const { port, servernames } = await startTls()
    const lookup = async (): Promise<ResolvedAddress[]> => [{ address: '93.184.216.34', family: 4 }]
    const connect: Connector = () => netConnect({ host: '127.0.0.1', port })
    const url = `https://rebind.example.com:${port}/`
    await refusal(safeFetchFor({ lookup, connect, ca: cert })(url), 'ERR_ADDRESS_NOT_ALLOWED')
    expect(servernames).toEqual([])
    const response = await safeFetchFor({ allowLoopback: true, lookup, connect, ca: cert })(url)
    expect(response.status).toBe(200)
    expect(servernames).toEqual(['rebind.example.com'])
  })
})

describe('createSafeFetch: redirects', () => {
  const redirectTo =
    (location: string, status = 302) =>
    (_req: IncomingMessage, res: ServerResponse) => {
      res.writeHead(status, { location })
      res.end()
    }

  it('refuses a redirect to the metadata address before connecting to it', async () => {
    for (const location of [
      'http://169.254.169.254/latest/meta-data',
      'https://169.254.169.254/latest/meta-data',
      'https://[::ffff:a9fe:a9fe]/latest/meta-data',
    ]) {
      const s = await startServer(redirectTo(location))
      const { connect, calls } = loopbackOnlyConnector()
      const error = await refusal(
        safeFetchFor({ allowLoopback: true, connect })(`${s.origin}/start`),
        'ERR_ADDRESS_NOT_ALLOWED',
      )
      expect(error.range).toBe('linkLocal')
      expect(calls.map((c) => c.host)).toEqual(['127.0.0.1'])
      expect(s.requests).toHaveLength(1)
    }
  })

  it('re-resolves and re-checks a redirect to a name', async () => {
    const s = await startServer(redirectTo('https://internal.example.com/admin'))
    const { lookup, calls: lookups } = tableResolver({ 'internal.example.com': '10.1.2.3' })
    const { connect, calls } = loopbackOnlyConnector()
    const error = await refusal(
      safeFetchFor({ allowLoopback: true, lookup, connect })(`${s.origin}/`),
      'ERR_ADDRESS_NOT_ALLOWED',
    )
    expect(error.range).toBe('private')
    expect(lookups).toEqual(['internal.example.com'])
    expect(calls.map((c) => c.host)).toEqual(['127.0.0.1'])
  })

  it('applies the host hooks and userinfo rule to redirect targets', async () => {
    const s1 = await startServer(redirectTo('https://blocked.example.com/'))
    const { lookup, calls } = tableResolver({ 'blocked.example.com': '8.8.8.8' })
    await refusal(
      safeFetchFor({ allowLoopback: true, lookup, denyHosts: ['blocked.example.com'] })(`${s1.origin}/`),
      'ERR_HOST_DENIED',
    )
    expect(calls).toEqual([])
    const s2 = await startServer(redirectTo('https://user:pw@api.example.com/'))
    await refusal(safeFetchFor({ allowLoopback: true, lookup })(`${s2.origin}/`), 'ERR_USERINFO')
  })

  it('follows allowed redirects and reports the final URL', async () => {
    const s = await startServer((req, res) => {
      if (req.url === '/a') return redirectTo('/b', 301)(req, res)
      if (req.url === '/b') return redirectTo(`http://localhost:${s.port}/c`, 308)(req, res)
      json(res, { at: req.url })
    })
    const { lookup } = tableResolver({ localhost: ['127.0.0.1', '::1'] })
    const response = await safeFetchFor({ allowLoopback: true, lookup })(`${s.origin}/a`)
    expect(await response.json()).toEqual({ at: '/c' })
    expect(response.redirected).toBe(true)
    expect(response.url).toBe(`http://localhost:${s.port}/c`)
  })

  it('turns POST into GET on 303 and keeps method and body on 307', async () => {
    const seen: Array<{ method?: string | undefined; body: string; type?: string | undefined }> = []
    const s = await startServer((req, res) => {
      let body = ''
      req.on('data', (c: Buffer) => {
        body += c.toString()
      })
      req.on('end', () => {
        seen.push({ method: req.method, body, type: req.headers['content-type'] })
        if (req.url === '/303') return redirectTo('/done', 303)(req, res)
        if (req.url === '/307') return redirectTo('/done', 307)(req, res)
        json(res, {})
      })
    })
    const safeFetch = safeFetchFor({ allowLoopback: true })
    await safeFetch(`${s.origin}/303`, {
      method: 'POST',
      body: 'a=1',
      headers: { 'content-type': 'text/plain' },
    })
    await safeFetch(`${s.origin}/307`, {
      method: 'POST',
      body: 'a=1',
      headers: { 'content-type': 'text/plain' },
    })
    expect(seen).toEqual([
      { method: 'POST', body: 'a=1', type: 'text/plain' },
      { method: 'GET', body: '', type: undefined },
      { method: 'POST', body: 'a=1', type: 'text/plain' },
      { method: 'POST', body: 'a=1', type: 'text/plain' },
    ])
  })

  it('drops credentials when a redirect changes origin', async () => {
    const other = await startServer((req, res) => json(res, { auth: req.headers.authorization ?? null }))
    const s = await startServer((req, res) => {
      if (req.url === '/same') return redirectTo('/echo')(req, res)
      if (req.url === '/cross') return redirectTo(`${other.origin}/echo`)(req, res)
      json(res, { auth: req.headers.authorization ?? null })
    })
    const safeFetch = safeFetchFor({ allowLoopback: true })
    const init = { headers: { authorization: 'Bearer at' } }
    expect(await (await safeFetch(`${s.origin}/same`, init)).json()).toEqual({ auth: 'Bearer at' })
    expect(await (await safeFetch(`${s.origin}/cross`, init)).json()).toEqual({ auth: null })
    expect(other.requests[0]?.headers.cookie).toBeUndefined()
  })

  it('stops a redirect loop at the hop limit', async () => {
    const s = await startServer(redirectTo('/loop'))
    await refusal(safeFetchFor({ allowLoopback: true })(`${s.origin}/loop`), 'ERR_TOO_MANY_REDIRECTS')
    expect(s.requests).toHaveLength(4)
    await refusal(
      safeFetchFor({ allowLoopback: true, maxRedirects: 1 })(`${s.origin}/loop`),
      'ERR_TOO_MANY_REDIRECTS',
    )
    expect(s.requests).toHaveLength(6)
  })

  it('refuses any redirect with maxRedirects 0, and returns it as is with redirect: manual', async () => {
    const s = await startServer(redirectTo('https://169.254.169.254/'))
    const safeFetch = safeFetchFor({ allowLoopback: true, maxRedirects: 0 })
    await refusal(safeFetch(`${s.origin}/`), 'ERR_TOO_MANY_REDIRECTS')
    const manual = await safeFetch(`${s.origin}/`, { redirect: 'manual' })
    expect(manual.status).toBe(302)
    expect(manual.headers.get('location')).toBe('https://169.254.169.254/')
    await refusal(
      safeFetchFor({ allowLoopback: true })(`${s.origin}/`, { redirect: 'error' }),
      'ERR_TOO_MANY_REDIRECTS',
    )
  })
})

describe('createSafeFetch: body cap and timeout', () => {
  const MARKER = 'BODY-MARKER-7f3a'

  it('cuts off a slow 2 MiB body at the cap and closes the connection', async () => {
    let serverSawClose = false
    let sent = 0
    const s = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const chunk = Buffer.alloc(64 * 1024, MARKER)
      const timer = setInterval(() => {
        if (sent >= 2 * 1024 * 1024) {
          clearInterval(timer)
          res.end()
          return
        }
        sent += chunk.length
        res.write(chunk)
      }, 5)
      res.on('close', () => {
        clearInterval(timer)
        serverSawClose = !res.writableFinished
      })
    })
    const error = await refusal(safeFetchFor({ allowLoopback: true })(`${s.origin}/`), 'ERR_BODY_TOO_LARGE')
    expect(error.message).not.toContain(MARKER)
    expect(error.detail ?? '').not.toContain(MARKER)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(serverSawClose).toBe(true)
    expect(sent).toBeLessThan(2 * 1024 * 1024)
  })

  it('fails early on a declared Content-Length above the cap', async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(2 * 1024 * 1024) })
      res.write('x')
    })
    const started = Date.now()
    const error = await refusal(safeFetchFor({ allowLoopback: true })(`${s.origin}/`), 'ERR_BODY_TOO_LARGE')
    expect(error.detail).toContain('Content-Length')
    expect(Date.now() - started).toBeLessThan(2000)
  })

  it('applies a small cap exactly (5 KiB for a metadata document)', async () => {
    const s = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end('x'.repeat(req.url === '/fits' ? 5 * 1024 : 6 * 1024))
    })
    const safeFetch = safeFetchFor({ allowLoopback: true, maxBodyBytes: 5 * 1024 })
    expect((await (await safeFetch(`${s.origin}/fits`)).text()).length).toBe(5 * 1024)
    await refusal(safeFetch(`${s.origin}/big`), 'ERR_BODY_TOO_LARGE')
  })

  it('decodes gzip and caps the decoded size (a compression bomb is refused)', async () => {
    const small = gzipSync(JSON.stringify({ issuer: 'https://as.example.com' }))
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024))
    expect(bomb.length).toBeLessThan(64 * 1024)
    const s = await startServer((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' })
      res.end(req.url === '/bomb' ? bomb : small)
    })
    const safeFetch = safeFetchFor({ allowLoopback: true })
    const response = await safeFetch(`${s.origin}/small`)
    expect(response.headers.get('content-encoding')).toBeNull()
    expect(await response.json()).toEqual({ issuer: 'https://as.example.com' })
    const error = await refusal(safeFetch(`${s.origin}/bomb`), 'ERR_BODY_TOO_LARGE')
    expect(error.detail).toContain('decoded')
  })

  it('cuts off a body that trickles past the total timeout', async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' })
      const timer = setInterval(() => res.write(' '), 100)
      res.on('close', () => clearInterval(timer))
    })
    const started = Date.now()
    await refusal(safeFetchFor({ allowLoopback: true, timeoutMs: 400 })(`${s.origin}/`), 'ERR_TIMEOUT')
    const elapsed = Date.now() - started
    expect(elapsed).toBeGreaterThanOrEqual(380)
    expect(elapsed).toBeLessThan(2000)
  })

  it('times out a server that never answers', async () => {
    const s = await startServer(() => {})
    await refusal(safeFetchFor({ allowLoopback: true, timeoutMs: 300 })(`${s.origin}/`), 'ERR_TIMEOUT')
    expect(s.requests).toHaveLength(1)
  })

  it("honours the caller's signal with the caller's reason", async () => {
    const s = await startServer(() => {})
    const controller = new AbortController()
    const reason = new Error('caller gave up')
    setTimeout(() => controller.abort(reason), 100)
    const result = await safeFetchFor({ allowLoopback: true })(`${s.origin}/`, {
      signal: controller.signal,
    }).then(
      () => 'resolved',
      (e: unknown) => e,
    )
    expect(result).toBe(reason)
    await expect(
      safeFetchFor({ allowLoopback: true })(`${s.origin}/`, { signal: AbortSignal.abort(reason) }),
    ).rejects.toBe(reason)
  })
})

describe('createSafeFetch: egress hooks', () => {
  it('checks deny and allow lists before resolving or sending anything', async () => {
    const { lookup, calls } = tableResolver({
      'internal.example.com': '8.8.8.8',
      'api.example.com': '8.8.8.8',
    })
    const { connect, calls: connects } = loopbackOnlyConnector()
    const deny = safeFetchFor({ lookup, connect, denyHosts: ['internal.example.com', '*.corp.example'] })
    await refusal(deny('https://internal.example.com/'), 'ERR_HOST_DENIED')
    await refusal(deny('https://INTERNAL.example.com./'), 'ERR_HOST_DENIED')
    await refusal(deny('https://db.corp.example/'), 'ERR_HOST_DENIED')
    const allow = safeFetchFor({ lookup, connect, allowHosts: ['*.example.org'] })
    await refusal(allow('https://api.example.com/'), 'ERR_HOST_NOT_ALLOWED')
    expect(calls).toEqual([])
    expect(connects).toEqual([])
  })

  it('passes the normalized host and the URL to a predicate hook', async () => {
    const s = await startServer((_req, res) => json(res, { ok: true }))
    const seen: string[] = []
    const safeFetch = safeFetchFor({
      allowLoopback: true,
      allowHosts: (host, url) => {
        seen.push(`${host} ${url.pathname}`)
        return host === '127.0.0.1'
      },
    })
    expect((await safeFetch(`${s.origin}/x`)).status).toBe(200)
    expect(seen).toEqual(['127.0.0.1 /x'])
    const denied = safeFetchFor({ allowLoopback: true, denyHosts: () => true })
    await refusal(denied(`${s.origin}/x`), 'ERR_HOST_DENIED')
    expect(s.requests).toHaveLength(1)
  })
})

describe('createSafeFetch: JSON content type', () => {
  it.each([
    ['application/json', true],
    ['application/json; charset=utf-8', true],
    ['Application/JSON', true],
    ['application/problem+json', true],
    ['application/jwk-set+json', true],
    ['text/html', false],
    ['text/plain; x=application/json', false],
    ['application/jsonp', false],
    ['application/json-seq', false],
    ['', false],
  ])('with %j the check passes: %s', async (type, ok) => {
    const s = await startServer((_req, res) => {
      res.writeHead(200, type === '' ? {} : { 'content-type': type })
      res.end('{"secret":"BODY-SECRET"}')
    })
    const promise = safeFetchFor({ allowLoopback: true, expectJson: true })(`${s.origin}/`)
    if (ok) {
      expect((await promise).status).toBe(200)
    } else {
      const error = await refusal(promise, 'ERR_CONTENT_TYPE')
      expect(`${error.message} ${error.detail}`).not.toContain('BODY-SECRET')
    }
  })

  it('lets non-2xx responses through so a caller can tell a 404 from a wrong document', async () => {
    const s = await startServer((_req, res) => {
      res.writeHead(404, { 'content-type': 'text/html' })
      res.end('<h1>not found</h1>')
    })
    const response = await safeFetchFor({ allowLoopback: true, expectJson: true })(`${s.origin}/`)
    expect(response.status).toBe(404)
    expect(s.requests[0]?.headers.accept).toBe('application/json')
  })
})

describe('createSafeFetch: options', () => {
  it('refuses invalid limits at construction', () => {
    expect(() => createSafeFetch({ maxRedirects: -1 })).toThrow(RangeError)
    expect(() => createSafeFetch({ maxBodyBytes: 1.5 })).toThrow(RangeError)
    expect(() => createSafeFetch({ timeoutMs: 0 })).toThrow(RangeError)
  })
})
