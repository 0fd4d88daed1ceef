/**
 * Resource-server benchmark: the cost of Portcullis's bearer guard against no auth and against
 * the official MCP SDK v2 bearer middleware, on one Hono app, loopback only.
 *
 * Method (mirrors the perf anchors): one Hono app on `@hono/node-server` in a child process
 * with three POST routes that differ only in auth; autocannon in this process, 50 connections,
 * the same duration per run, targets interleaved per round (order reversed every other round);
 * the figure is autocannon's `requests.average`; ratios are the median of per-round ratios. Many
 * short rounds (8 of 1.5 s by default) keep each ratio's two runs close in time, so a shared
 * host's drifting load skews them alike.
 *
 *   open       POST /open/mcp       no auth
 *   protected  POST /protected/mcp  Portcullis `protectedResource` + `jwtVerifier` (ES256, audience,
 *                                    scope `mcp:tools`), verified-token cache on (part of the guard),
 *                                    header values from `honoNodeHead` (as `honoAuth(rs, { head:
 *                                    honoNodeHead })` reads them on @hono/node-server)
 *   sdk        POST /sdk/mcp        `requireBearerAuth` from `@modelcontextprotocol/server` with a
 *                                    jose `jwtVerify` verifier on every request (as in the anchors)
 *
 * Usage: npx tsx bench/resource-server.ts   (env BENCH_ROUNDS, BENCH_SECONDS to change the run)
 * Prints exactly: open_rps, protected_rps, sdk_rps, ratio_protected_open, ratio_protected_sdk.
 * Progress goes to stderr.
 */

import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 8)
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 1.5)
const WARMUP_SECONDS = 1
const CONNECTIONS = 50

/** The part of autocannon's API used here (the package ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number }
  latency: { p50: number; p99: number }
  non2xx: number
  errors: number
  timeouts: number
}
type Autocannon = (
  options: {
    url: string
    connections: number
    duration: number
    method: 'POST'
    headers: Record<string, string>
    body: string
  },
  done: (error: unknown, result: AutocannonResult) => void,
) => unknown

if (process.argv.includes('--server')) {
  await runServer()
} else {
  await runBench()
}

async function runServer(): Promise<void> {
  const { Hono } = await import('hono')
  const { serve } = await import('@hono/node-server')
  const { SignJWT, jwtVerify, generateKeyPair, exportJWK } = await import('jose')
  const { requireBearerAuth, OAuthError, OAuthErrorCode } = await import('@modelcontextprotocol/server')
  const { protectedResource, jwtVerifier, honoNodeHead } = await import('../src/node/resource-server.js')

  // The env (Node's request and response) is passed on, as `serve({ fetch: app.fetch })` does.
  const server = serve({ fetch: (request, env) => app.fetch(request, env), port: 0, hostname: '127.0.0.1' })
  await once(server, 'listening')
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  const origin = `http://127.0.0.1:${address.port}`
  const issuer = 'http://127.0.0.1:4018'
  const resource = `${origin}/mcp`
  const prmUrl = `${origin}/.well-known/oauth-protected-resource/mcp`

  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' }
  const token = await new SignJWT({ scope: 'mcp:tools', client_id: 'bench-client' })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: 'bench-es256' })
    .setIssuer(issuer)
    .setSubject('bench-user')
    .setAudience(resource)
    .setIssuedAt()
    .setExpirationTime('2h')
    .setJti(crypto.randomUUID())
    .sign(privateKey)

  const rs = protectedResource({
    resource,
    authorizationServers: [issuer],
    verifier: jwtVerifier({ issuer, audience: resource, jwks: { keys: [jwk] } }),
    scopes: { default: ['mcp:tools'] },
  })

  const verifyOptions = { issuer, audience: resource, algorithms: ['ES256'], typ: 'at+jwt' }
  const gate = requireBearerAuth({
    verifier: {
      async verifyAccessToken(tok: string) {
        let payload: Awaited<ReturnType<typeof jwtVerify>>['payload']
        try {
          ;({ payload } = await jwtVerify(tok, publicKey, verifyOptions))
        } catch {
          throw new OAuthError(OAuthErrorCode.InvalidToken, 'Invalid access token')
        }
        return {
          token: tok,
          clientId: String(payload['client_id']),
          scopes: typeof payload['scope'] === 'string' ? payload['scope'].split(' ') : [],
          expiresAt: payload.exp ?? 0,
          resource: new URL(([] as string[]).concat(payload.aud ?? [])[0]!),
          extra: { sub: payload.sub },
        }
      },
    },
    requiredScopes: ['mcp:tools'],
    expectedResource: new URL(resource),
    resourceMetadataUrl: prmUrl,
  })

  const reply = (body: { id?: unknown } | undefined) =>
    Response.json({
      jsonrpc: '2.0',
      id: body?.id ?? null,
      result: { content: [{ type: 'text', text: 'ok' }] },
    })

  const app = new Hono()
  // Server CPU time so far (µs), for the per-request CPU cost that noise on a shared host cannot skew.
  app.get('/cpu', () => Response.json(process.cpuUsage()))
  app.post('/open/mcp', async (c) => reply(await c.req.json()))
  app.post('/protected/mcp', async (c) => {
    const auth = await rs.authenticate(c.req.raw, honoNodeHead(c))
    if (auth instanceof Response) return auth
    return reply(await c.req.json())
  })
  app.post('/sdk/mcp', async (c) => {
    const auth = await gate(c.req.raw)
    if (auth instanceof Response) return auth
    return reply(await c.req.json())
  })

  process.stdout.write(`${JSON.stringify({ origin, token })}\n`)
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}

async function startServer(): Promise<{ child: ChildProcess; origin: string; token: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--server'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  let buffered = ''
  for await (const chunk of child.stdout!) {
    buffered += String(chunk)
    const newline = buffered.indexOf('\n')
    if (newline !== -1) {
      const ready = JSON.parse(buffered.slice(0, newline)) as { origin: string; token: string }
      return { child, ...ready }
    }
  }
  throw new Error('the benchmark server exited before it was ready')
}

function psi(): string {
  try {
    return readFileSync('/proc/pressure/cpu', 'utf8').match(/some avg10=([\d.]+)/)?.[1] ?? '?'
  } catch {
    return '?'
  }
}

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

async function runBench(): Promise<void> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon
  const { child, origin, token } = await startServer()
  const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} })
  const post = (auth: boolean) => ({
    method: 'POST' as const,
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...(auth ? { authorization: `Bearer ${token}` } : {}),
    },
    body,
  })
  const targets = [
    { label: 'open', url: `${origin}/open/mcp`, opts: post(false) },
    { label: 'protected', url: `${origin}/protected/mcp`, opts: post(true) },
    { label: 'sdk', url: `${origin}/sdk/mcp`, opts: post(true) },
  ] as const

  try {
    // Sanity: every route answers 200 with the token, and the guarded ones 401 without.
    for (const t of targets) {
      const ok = await fetch(t.url, t.opts)
      if (ok.status !== 200) throw new Error(`${t.label}: ${ok.status}`)
      await ok.arrayBuffer()
      if (t.label !== 'open') {
        const refused = await fetch(t.url, post(false))
        if (refused.status !== 401) throw new Error(`${t.label} without a token: ${refused.status}`)
        await refused.arrayBuffer()
      }
    }

    const run = (t: (typeof targets)[number], duration: number) =>
      new Promise<AutocannonResult>((resolve, reject) => {
        autocannon({ url: t.url, connections: CONNECTIONS, duration, ...t.opts }, (error, result) =>
          error ? reject(error) : resolve(result),
        )
      })

    const serverCpu = async () => {
      const usage = (await (await fetch(`${origin}/cpu`)).json()) as { user: number; system: number }
      return usage.user + usage.system
    }
    for (const t of targets) await run(t, WARMUP_SECONDS)
    const results: Record<string, number[]> = { open: [], protected: [], sdk: [] }
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? targets : [...targets].reverse()
      for (const t of order) {
        const cpuBefore = await serverCpu()
        const r = await run(t, SECONDS)
        const cpuPerRequest = ((await serverCpu()) - cpuBefore) / Math.max(1, r.requests.total)
        const bad = r.non2xx + r.errors + r.timeouts
        if (bad) throw new Error(`${t.label}: non2xx=${r.non2xx} errors=${r.errors} timeouts=${r.timeouts}`)
        results[t.label]!.push(r.requests.average)
        console.error(
          `round ${round} ${t.label} rps=${r.requests.average.toFixed(0)} p50=${r.latency.p50}ms p99=${r.latency.p99}ms server_cpu_us_per_req=${cpuPerRequest.toFixed(1)} psi_some_avg10=${psi()}`,
        )
      }
    }
    const perRound = (num: string, den: string) => median(results[num]!.map((v, i) => v / results[den]![i]!))
    console.log(`open_rps=${Math.round(median(results['open']!))}`)
    console.log(`protected_rps=${Math.round(median(results['protected']!))}`)
    console.log(`sdk_rps=${Math.round(median(results['sdk']!))}`)
    console.log(`ratio_protected_open=${perRound('protected', 'open').toFixed(3)}`)
    console.log(`ratio_protected_sdk=${perRound('protected', 'sdk').toFixed(3)}`)
  } finally {
    child.kill('SIGTERM')
  }
}
