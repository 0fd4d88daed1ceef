/**
 * Token-endpoint and registration throughput of the Portcullis authorization server (SQLite store)
 * against oidc-provider 8.8.1 configured the same way (PKCE S256, resource indicators, RFC 9068 JWT
 * access tokens, open DCR, refresh rotation), in one run, over loopback HTTP.
 *
 * The method mirrors reference/perf-anchors.md Part 1 (`op-bench.mjs`): both servers in child
 * processes on 127.0.0.1, an undici Pool of 16 connections per target, 16 concurrent workers,
 * 1.5 s warm-up, 6 s timed windows, codes pre-minted (untimed) in batches of 80, refresh chains
 * seeded from the last 16 refresh tokens of the code phase, targets interleaved per metric with
 * the order reversed every other round. Any non-2xx answer or un-rotated refresh token aborts.
 *
 * Usage: `npx tsx bench/authorization-server.ts` (env ROUNDS, default 3; SECONDS, default 6).
 * Prints `name=value` lines; the value of each figure is the median over the rounds.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Pool } from 'undici'

const RESOURCE = 'http://127.0.0.1:8790/mcp'
const SCOPE = 'mcp:tools'
const REDIRECT_REGISTERED = 'http://127.0.0.1/callback'
const REDIRECT_USED = 'http://127.0.0.1:53682/callback'

// ---------------------------------------------------------------------------------------------
// Servers (child processes)
// ---------------------------------------------------------------------------------------------

async function servePortcullis(): Promise<void> {
  const { createNodeAuthorizationServer } = await import('../src/node/authorization-server.js')
  const { createSqliteStore } = await import('../src/storage/sql/sqlite.js')
  const { randomToken } = await import('../src/protocol/random.js')
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-as-'))
  const store = await createSqliteStore({ filename: join(dir, 'as.db'), encryptionKey: randomToken(32) })
  let handler: (
    req: import('node:http').IncomingMessage,
    res: import('node:http').ServerResponse,
  ) => Promise<void> = async (_q, s) => {
    s.writeHead(503).end()
  }
  const server = createServer((req, res) => void handler(req, res))
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}`
  const as = createNodeAuthorizationServer({
    issuer,
    store,
    resources: [{ uri: RESOURCE, scopes: { [SCOPE]: 'Use the tools' } }],
    // The host application's session says who is signed in (the equivalent of oidc-provider's
    // auto-approving interaction); consent is still given on the consent form.
    login: { currentUser: async () => ({ subject: 'bench-user' }) },
    cookieSecret: randomToken(32),
    // Counted in the store like any deployment, with a limit the run cannot reach.
    registration: { mode: 'open', rateLimit: { max: 1e9, windowMs: 3_600_000 } },
    // oidc-provider emits its events to no listener here; ours go to no sink either.
    onAudit: () => {},
  })
  await as.ready()
  handler = as.listener
  console.log(`READY ${port}`)
  process.on('SIGTERM', () => {
    server.closeAllConnections()
    server.close(() => {
      void store.close().finally(() => {
        rmSync(dir, { recursive: true, force: true })
        process.exit(0)
      })
    })
  })
}

async function serveOidcProvider(): Promise<void> {
  // Configuration copied from perf-anchors.md Part 1 (op-server.mjs), for 8.8.1.
  const { generateKeyPair, exportJWK } = await import('jose')
  // A variable specifier: oidc-provider ships no types.
  const pkg: string = 'oidc-provider-8'
  // biome-ignore lint/suspicious/noExplicitAny: oidc-provider ships no types.
  const mod: any = await import(pkg)
  const Provider = mod.Provider ?? mod.default
  const { errors } = mod
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  const ISSUER = `http://127.0.0.1:${port}`
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const jwk = { ...(await exportJWK(privateKey)), kid: 'bench-es256', alg: 'ES256', use: 'sig' }
  const configuration = {
    jwks: { keys: [jwk] },
    cookies: { keys: ['bench-cookie-key-0123456789abcdef'] },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    pkce: { required: () => true, methods: ['S256'] },
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async (_ctx: unknown, _client: unknown, oneOf?: string) => oneOf ?? RESOURCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: unknown, resourceIndicator: string) => {
          if (resourceIndicator !== RESOURCE) throw new errors.InvalidTarget()
          return {
            scope: SCOPE,
            audience: RESOURCE,
            accessTokenTTL: 3600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          }
        },
      },
    },
    // biome-ignore lint/suspicious/noExplicitAny: oidc-provider ships no types.
    issueRefreshToken: async (_ctx: unknown, client: any) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => false,
    rotateRefreshToken: true,
  }
  const provider = new Provider(ISSUER, configuration)
  provider.on('server_error', (_ctx: unknown, err: Error) => console.error('server_error', err))
  // biome-ignore lint/suspicious/noExplicitAny: koa context.
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.method === 'GET' && ctx.path.startsWith('/interaction/')) {
      const details = await provider.interactionDetails(ctx.req, ctx.res)
      const { params } = details
      const accountId = details.session?.accountId ?? 'bench-user'
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: params.client_id })
      const requested = new Set(
        String(params.scope ?? '')
          .split(' ')
          .filter(Boolean),
      )
      const oidcScopes = [...requested].filter((s) => s === 'openid' || s === 'offline_access')
      if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '))
      for (const r of ([] as string[]).concat(params.resource ?? RESOURCE)) grant.addResourceScope(r, SCOPE)
      const grantId = await grant.save()
      const to = await provider.interactionResult(
        ctx.req,
        ctx.res,
        { login: { accountId }, consent: { grantId } },
        { mergeWithLastSubmission: false },
      )
      ctx.redirect(to)
      ctx.status = 303
      return
    }
    await next()
  })
  const server = provider.listen(port, '127.0.0.1', () => console.log(`READY ${port}`))
  process.on('SIGTERM', () => server.close(() => process.exit(0)))
}

// ---------------------------------------------------------------------------------------------
// Load generator
// ---------------------------------------------------------------------------------------------

interface Target {
  label: string
  kind: 'portcullis' | 'oidcp'
  origin: string
  pool: Pool
  paths: { register: string; authorize: string; token: string }
  results: Record<Metric, number[]>
  /** Server CPU time (all threads) per timed operation, in microseconds, per round. */
  cpu: Record<Metric, number[]>
  rtSeed?: { clientId: string; rts: string[] }
  child: ChildProcess
}

type Metric = 'registrations_per_s' | 'code_exchanges_per_s' | 'refreshes_per_s'

const ROUNDS = Number(process.env['ROUNDS'] ?? 3)
const SECONDS = Number(process.env['SECONDS'] ?? 6)
const CONCURRENCY = 16
const WARMUP_MS = 1500
const BATCH = 80

const b64u = (b: Buffer) => b.toString('base64url')
const form = (o: Record<string, string>) => new URLSearchParams(o).toString()

async function request(
  t: Target,
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
) {
  const res = await t.pool.request({
    method: method as 'GET',
    path,
    headers,
    ...(body === undefined ? {} : { body }),
  })
  const text = await res.body.text()
  return { status: res.statusCode, headers: res.headers, text }
}

function fail(what: string, r: { status: number; text: string }): never {
  throw new Error(
    `${what}: HTTP ${r.status} ${r.text
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .slice(0, 300)}`,
  )
}

const DCR_BODY = JSON.stringify({
  application_type: 'native',
  client_name: 'MCP bench client',
  redirect_uris: [REDIRECT_REGISTERED],
  grant_types: ['authorization_code', 'refresh_token'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
})

async function register(t: Target): Promise<string> {
  const r = await request(t, 'POST', t.paths.register, { 'content-type': 'application/json' }, DCR_BODY)
  if (r.status !== 201) fail('register', r)
  return (JSON.parse(r.text) as { client_id: string }).client_id
}

class Jar {
  m = new Map<string, string>()
  update(setCookie: string | string[] | undefined) {
    for (const c of ([] as string[]).concat(setCookie ?? [])) {
      const [pair] = c.split(';')
      const i = pair!.indexOf('=')
      const value = pair!.slice(i + 1).trim()
      if (value === '' || /max-age=0/i.test(c)) this.m.delete(pair!.slice(0, i).trim())
      else this.m.set(pair!.slice(0, i).trim(), value)
    }
  }
  header() {
    return [...this.m].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

function field(html: string, name: string): string {
  const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
  if (m === null) throw new Error(`no ${name} field`)
  return m[1]!
}

/** A fresh user agent per code, as in the anchor. */
async function mintCode(t: Target, clientId: string): Promise<{ code: string; verifier: string }> {
  const jar = new Jar()
  const verifier = b64u(randomBytes(32))
  const challenge = b64u(createHash('sha256').update(verifier).digest())
  const q = form({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_USED,
    scope: SCOPE,
    resource: RESOURCE,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state: b64u(randomBytes(8)),
  })
  let path = `${t.paths.authorize}?${q}`
  for (let hop = 0; hop < 6; hop++) {
    const r = await request(t, 'GET', path, { cookie: jar.header() })
    jar.update(r.headers['set-cookie'])
    let next: string
    if (r.status === 200 && t.kind === 'portcullis') {
      // Our consent form: POST approve with the transaction id and the CSRF token.
      const post = await request(
        t,
        'POST',
        /<form method="post" action="([^"]+)"/.exec(r.text)![1]!,
        { cookie: jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
        form({ transaction: field(r.text, 'transaction'), csrf: field(r.text, 'csrf'), decision: 'approve' }),
      )
      if (post.status !== 303) fail('consent', post)
      next = post.headers['location'] as string
    } else {
      if (r.status !== 303 && r.status !== 302) fail('authorize', r)
      next = r.headers['location'] as string
    }
    const loc = new URL(next, t.origin)
    if (loc.href.startsWith(REDIRECT_USED)) {
      const code = loc.searchParams.get('code')
      if (code === null) throw new Error(`no code: ${loc.href}`)
      return { code, verifier }
    }
    if (loc.origin !== t.origin) throw new Error(`unexpected redirect ${loc.href}`)
    path = loc.pathname + loc.search
  }
  throw new Error('too many redirects')
}

async function exchange(t: Target, clientId: string, x: { code: string; verifier: string }) {
  const r = await request(
    t,
    'POST',
    t.paths.token,
    { 'content-type': 'application/x-www-form-urlencoded' },
    form({
      grant_type: 'authorization_code',
      code: x.code,
      redirect_uri: REDIRECT_USED,
      client_id: clientId,
      code_verifier: x.verifier,
      resource: RESOURCE,
    }),
  )
  if (r.status !== 200) fail('code exchange', r)
  const j = JSON.parse(r.text) as { access_token?: string; refresh_token?: string }
  if (!j.refresh_token || !j.access_token) throw new Error('missing tokens')
  return j as { access_token: string; refresh_token: string }
}

async function refresh(t: Target, clientId: string, rt: string) {
  const r = await request(
    t,
    'POST',
    t.paths.token,
    { 'content-type': 'application/x-www-form-urlencoded' },
    form({ grant_type: 'refresh_token', refresh_token: rt, client_id: clientId, resource: RESOURCE }),
  )
  if (r.status !== 200) fail('refresh', r)
  const j = JSON.parse(r.text) as { refresh_token?: string }
  if (!j.refresh_token || j.refresh_token === rt) throw new Error('refresh token was not rotated')
  return j as { refresh_token: string }
}

async function forDuration(ms: number, fn: (w: number) => Promise<unknown>) {
  let n = 0
  const end = performance.now() + ms
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, w) => {
      while (performance.now() < end) {
        await fn(w)
        n++
      }
    }),
  )
  return { n, s: (performance.now() - t0) / 1000 }
}

async function forEach<T, R>(items: T[], fn: (x: T) => Promise<R>) {
  let i = 0
  const out = new Array<R>(items.length)
  const t0 = performance.now()
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i < items.length) {
        const k = i++
        out[k] = await fn(items[k]!)
      }
    }),
  )
  return { out, s: (performance.now() - t0) / 1000 }
}

/** The child's user + system CPU time in microseconds (Linux `/proc`; `NaN` elsewhere). */
function cpuMicros(t: Target): number {
  try {
    const stat = readFileSync(`/proc/${t.child.pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // Fields 14 and 15 of proc(5) (utime, stime), in clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10_000
  } catch {
    return Number.NaN
  }
}

/** A timed phase's operations and the server CPU time they took. */
async function measured<R extends { n: number; s: number }>(t: Target, phase: () => Promise<R>) {
  const before = cpuMicros(t)
  const r = await phase()
  return { ...r, cpu: cpuMicros(t) - before }
}

async function benchRegistrations(t: Target) {
  await forDuration(WARMUP_MS, () => register(t))
  const { n, s, cpu } = await measured(t, () => forDuration(SECONDS * 1000, () => register(t)))
  return { perS: n / s, cpuPerOp: cpu / n }
}

async function benchCodeExchanges(t: Target) {
  const clientId = await register(t)
  const mint = (k: number) => forEach(Array.from({ length: k }), () => mintCode(t, clientId))
  const { out: warm } = await mint(200)
  await forEach(warm, (x) => exchange(t, clientId, x))
  let n = 0
  let s = 0
  let cpu = 0
  let last: { refresh_token: string }[] = []
  while (s < SECONDS) {
    const { out: codes } = await mint(BATCH)
    const r = await measured(t, async () => ({
      ...(await forEach(codes, (x) => exchange(t, clientId, x))),
      n: codes.length,
    }))
    n += r.n
    s += r.s
    cpu += r.cpu
    last = r.out
  }
  t.rtSeed = { clientId, rts: last.slice(-CONCURRENCY).map((x) => x.refresh_token) }
  return { perS: n / s, cpuPerOp: cpu / n }
}

async function benchRefreshes(t: Target) {
  const { clientId, rts } = t.rtSeed!
  const step = async (w: number) => {
    rts[w] = (await refresh(t, clientId, rts[w]!)).refresh_token
  }
  await forDuration(WARMUP_MS, step)
  const { n, s, cpu } = await measured(t, () => forDuration(SECONDS * 1000, step))
  return { perS: n / s, cpuPerOp: cpu / n }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const psi = () => {
  try {
    return /some avg10=([\d.]+)/.exec(readFileSync('/proc/pressure/cpu', 'utf8'))![1]
  } catch {
    return '?'
  }
}

async function startChild(kind: 'portcullis' | 'oidcp'): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), 'serve', kind], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NODE_ENV: 'production' },
  })
  const port = await new Promise<number>((resolve, reject) => {
    let buffer = ''
    child.stdout!.on('data', (chunk: Buffer) => {
      buffer += chunk.toString()
      const m = /READY (\d+)/.exec(buffer)
      if (m !== null) resolve(Number(m[1]))
    })
    child.on('exit', (code) => reject(new Error(`${kind} server exited with ${code}`)))
  })
  // Keep draining the child's output (oidc-provider's warnings) so it never blocks.
  child.stdout!.resume()
  return { child, port }
}

async function main(): Promise<void> {
  const [ours, theirs] = await Promise.all([startChild('portcullis'), startChild('oidcp')])
  const make = (
    label: string,
    kind: Target['kind'],
    started: { child: ChildProcess; port: number },
  ): Target => {
    const origin = `http://127.0.0.1:${started.port}`
    return {
      label,
      kind,
      origin,
      pool: new Pool(origin, { connections: CONCURRENCY, pipelining: 1, keepAliveTimeout: 30_000 }),
      paths:
        kind === 'portcullis'
          ? { register: '/register', authorize: '/authorize', token: '/token' }
          : { register: '/reg', authorize: '/auth', token: '/token' },
      results: { registrations_per_s: [], code_exchanges_per_s: [], refreshes_per_s: [] },
      cpu: { registrations_per_s: [], code_exchanges_per_s: [], refreshes_per_s: [] },
      child: started.child,
    }
  }
  const targets = [make('portcullis', 'portcullis', ours), make('oidcp', 'oidcp', theirs)]
  console.error(`# concurrency=${CONCURRENCY} rounds=${ROUNDS} seconds=${SECONDS}`)
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [metric, fn] of [
        ['registrations_per_s', benchRegistrations],
        ['code_exchanges_per_s', benchCodeExchanges],
        ['refreshes_per_s', benchRefreshes],
      ] as const) {
        const order = round % 2 ? targets : [...targets].reverse()
        for (const t of order) {
          const v = await fn(t)
          t.results[metric].push(v.perS)
          t.cpu[metric].push(v.cpuPerOp)
          console.error(
            `# round ${round} ${t.label} ${metric} ${v.perS.toFixed(1)} server_cpu_us_per_op=${v.cpuPerOp.toFixed(0)} psi_some_avg10=${psi()}`,
          )
        }
      }
    }
  } finally {
    await Promise.all(targets.map((t) => t.pool.close()))
    for (const t of targets) t.child.kill('SIGTERM')
  }
  for (const t of targets) {
    const cpu = (m: Metric) => median(t.cpu[m]).toFixed(0)
    console.error(
      `# ${t.label} server CPU µs/op (median): code_exchange=${cpu('code_exchanges_per_s')} refresh=${cpu('refreshes_per_s')} registration=${cpu('registrations_per_s')}`,
    )
  }
  const [p, o] = targets as [Target, Target]
  const lines: [string, number][] = [
    ['code_exchanges_per_s', median(p.results.code_exchanges_per_s)],
    ['refreshes_per_s', median(p.results.refreshes_per_s)],
    ['registrations_per_s', median(p.results.registrations_per_s)],
    ['oidcp_code_exchanges_per_s', median(o.results.code_exchanges_per_s)],
    ['oidcp_refreshes_per_s', median(o.results.refreshes_per_s)],
    ['oidcp_registrations_per_s', median(o.results.registrations_per_s)],
  ]
  const ratio = (metric: Metric) => {
    const r = p.results[metric].map((v, i) => v / o.results[metric][i]!)
    return median(r)
  }
  lines.push(['ratio_code_exchange_vs_oidcp', ratio('code_exchanges_per_s')])
  lines.push(['ratio_refresh_vs_oidcp', ratio('refreshes_per_s')])
  lines.push(['ratio_registration_vs_oidcp', ratio('registrations_per_s')])
  for (const [name, value] of lines)
    console.log(`${name}=${name.startsWith('ratio') ? value.toFixed(2) : value.toFixed(1)}`)
}

if (process.argv[2] === 'serve') {
  await (process.argv[3] === 'portcullis' ? servePortcullis() : serveOidcProvider())
} else {
  await main()
}
