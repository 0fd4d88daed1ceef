/**
 * The load client: simulated MCP clients, each living a whole life against a replica set —
 * dynamic registration, authorization through the real login and consent forms (page fetched,
 * CSRF token and transaction id parsed, form posted with the cookie), code exchange, tool calls
 * on the resource server, refreshes (one of them sent to two replicas at once, as a client retrying
 * after a timeout would), and revocation. Every request goes to the next authorization server in
 * turn, so consecutive steps of one flow land on different processes.
 *
 * Everything the servers acknowledge is kept in a {@link Ledger}, so a run can check afterwards
 * that nothing acknowledged was lost.
 */
import { computeCodeChallenge, generateCodeVerifier } from '../../src/protocol/pkce.js'

/** The redirect URI every simulated client registers (nothing listens there: the code is read from the `Location`). */
export const REDIRECT_URI = 'http://127.0.0.1:43999/callback'
const REQUEST_TIMEOUT_MS = 30_000
const DOWN_MS = 500
// How long a request refused by every server waits for one to come back.
const REFUSED_RETRY_MS = 20_000

/** The parts of a replica set the load talks to. */
export interface LoadTarget {
  authorizationServers: string[]
  resourceServer: string
  resource: string
  username: string
  password: string
}

/** Options of {@link runLoad}. */
export interface LoadOptions {
  /** Simulated clients. Default 200. */
  clients?: number
  /** Clients living at once. Default 25. */
  concurrency?: number
  /** Refreshes per client. Default 5. */
  refreshes?: number
  /** Which refresh (1-based) is sent to two replicas at once; 0 for none. Default 3. */
  duplicateRefresh?: number
  /** No client starts after this long. Default 10 minutes. */
  maxDurationMs?: number
  /** Called after every finished life (for fault injection in the middle of a run). */
  onFlowDone?: (done: number) => void
  /** Revoke at the end of each life. Default true; `false` keeps the families for checks after the run. */
  revoke?: boolean
  /** Ask every authorization server about every registration after the run. Default true. */
  probeRegistrations?: boolean
}

/** A token response the servers acknowledged, with the latest refresh token of its family. */
export interface IssuedTokens {
  clientId: string
  accessTokens: string[]
  refreshToken: string
  revoked: boolean
  /** The whole life finished: `refreshToken` is the family's current token (unless revoked). */
  complete: boolean
}

/** What the servers acknowledged during a run. */
export interface Ledger {
  /** `client_id`s of registrations answered with 201. */
  registrations: string[]
  /** One entry per successful code exchange. */
  tokens: IssuedTokens[]
  /** Every rotation seen: presented refresh token → successor. */
  rotations: Map<string, string>
}

/** The figures of a run. */
export interface LoadReport {
  flows: number
  failedFlows: number
  requests: number
  errors5xx: number
  connectionErrors: number
  lostRegistrations: number
  doubleSpentRefreshTokens: number
  p50Ms: number
  p99Ms: number
  requestsPerS: number
  durationMs: number
  /** The first few failures, without tokens. */
  failures: string[]
  /** 5xx answers seen (the first 200): status, path, `Retry-After` and the start of the body. */
  serverErrors: ServerErrorAnswer[]
  ledger: Ledger
}

/** A 5xx answer. */
export interface ServerErrorAnswer {
  status: number
  path: string
  retryAfter: string | null
  body: string
}

/** A `Set-Cookie` → `Cookie` jar for one simulated browser. */
class CookieJar {
  readonly #cookies = new Map<string, string>()
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const pair = line.split(';')[0] ?? ''
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      if (value === '' || /max-age=0/i.test(line)) this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

class FlowError extends Error {}

function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
  if (match?.[1] === undefined) throw new FlowError(`the page has no ${name} field`)
  return match[1].replace(/&amp;/g, '&')
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!
}

function connectionCode(error: unknown): string | undefined {
  const cause = (error as { cause?: { code?: unknown } } | null)?.cause
  return typeof cause?.code === 'string' ? cause.code : undefined
}

/** Request accounting and the round robin over the authorization servers. */
class Http {
  latencies: number[] = []
  errors5xx = 0
  connectionErrors = 0
  serverErrors: ServerErrorAnswer[] = []
  #next = 0
  readonly #downUntil: number[]

  constructor(readonly servers: string[]) {
    this.#downUntil = servers.map(() => 0)
  }

  /** The next authorization server in turn, skipping one that refused a connection just now. */
  pick(): number {
    const now = Date.now()
    for (let i = 0; i < this.servers.length; i++) {
      const index = this.#next++ % this.servers.length
      if (this.#downUntil[index]! <= now) return index
    }
    return this.#next++ % this.servers.length
  }

  /** A request to an authorization server; a refused connection (nothing sent) moves on to the next. */
  async as(path: string, init: RequestInit = {}, index?: number): Promise<Response> {
    let target = index ?? this.pick()
    const giveUp = Date.now() + REFUSED_RETRY_MS
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.send(new URL(path, this.servers[target]).href, init)
      } catch (error) {
        if (connectionCode(error) !== 'ECONNREFUSED' || Date.now() > giveUp) throw error
        this.#downUntil[target] = Date.now() + DOWN_MS
        // Every server refused: wait for one to come back, as a load balancer's queue would.
        if (attempt >= this.servers.length) await new Promise((r) => setTimeout(r, 100))
        target = this.pick()
      }
    }
  }

  async send(url: string, init: RequestInit): Promise<Response> {
    const started = performance.now()
    let response: Response
    try {
      response = await fetch(url, {
        redirect: 'manual',
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        ...init,
      })
    } catch (error) {
      if (connectionCode(error) !== 'ECONNREFUSED') this.connectionErrors++
      throw error
    }
    // The body is read here so the latency covers the whole answer.
    const body = await response.arrayBuffer()
    this.latencies.push(performance.now() - started)
    if (response.status >= 500) {
      this.errors5xx++
      if (this.serverErrors.length < 200) {
        this.serverErrors.push({
          status: response.status,
          path: new URL(url).pathname,
          retryAfter: response.headers.get('retry-after'),
          body: new TextDecoder().decode(body.slice(0, 2000)),
        })
      }
    }
    return new Response(response.status === 204 || response.status === 304 ? null : body, {
      status: response.status,
      headers: response.headers,
    })
  }
}

function form(values: Record<string, string>): RequestInit {
  return {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(values).toString(),
  }
}

/** State shared by the lives of one run. */
interface RunState {
  http: Http
  target: LoadTarget
  ledger: Ledger
  lost: Set<string>
  doubleSpent: number
}

async function expectStatus(response: Response, status: number, step: string): Promise<void> {
  if (response.status !== status) {
    const text = (await response.text()).slice(0, 200).replace(/\s+/g, ' ')
    throw new FlowError(`${step}: expected ${status}, got ${response.status} ${text}`)
  }
}

function noteLostClient(state: RunState, clientId: string, response: Response, body: string): void {
  const unknownPage = response.status === 400 && body.includes('not registered here')
  const invalidClient = response.status === 401 && body.includes('invalid_client')
  if (unknownPage || invalidClient) state.lost.add(clientId)
}

/** Records a rotation; a presented token with two different successors is a double spend. */
function recordRotation(state: RunState, presented: string, successor: string): void {
  const earlier = state.ledger.rotations.get(presented)
  if (earlier !== undefined && earlier !== successor) state.doubleSpent++
  else state.ledger.rotations.set(presented, successor)
}

async function register(state: RunState, n: number): Promise<string> {
  const response = await state.http.as('/register', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      client_name: `Load client ${n}`,
      application_type: 'native',
      redirect_uris: [REDIRECT_URI],
      grant_types: ['authorization_code', 'refresh_token'],
      token_endpoint_auth_method: 'none',
    }),
  })
  await expectStatus(response, 201, 'register')
  const { client_id } = (await response.json()) as { client_id: string }
  state.ledger.registrations.push(client_id)
  return client_id
}

/** GET /authorize, login form, consent form: the code. */
async function authorize(state: RunState, clientId: string, challenge: string): Promise<string> {
  const { http, target } = state
  const jar = new CookieJar()
  const browser = (init: RequestInit, site: string): RequestInit => {
    const headers = new Headers(init.headers)
    headers.set('sec-fetch-site', site)
    const cookie = jar.header()
    if (cookie !== '') headers.set('cookie', cookie)
    return { ...init, headers }
  }
  const stateParam = Math.random().toString(36).slice(2)
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: challenge,
    code_challenge_method: 'S256',
    resource: target.resource,
    scope: 'notes:read notes:write',
    state: stateParam,
  })
  const page = await http.as(`/authorize?${query}`, browser({}, 'none'))
  jar.store(page)
  const loginHtml = await page.text()
  noteLostClient(state, clientId, page, loginHtml)
  if (page.status !== 200) throw new FlowError(`authorize: ${page.status}`)
  const login = await http.as(
    '/interaction/login',
    browser(
      form({
        transaction: hiddenField(loginHtml, 'transaction'),
        csrf: hiddenField(loginHtml, 'csrf'),
        username: target.username,
        password: target.password,
      }),
      'same-origin',
    ),
  )
  jar.store(login)
  const consentHtml = await login.text()
  noteLostClient(state, clientId, login, consentHtml)
  if (login.status !== 200) throw new FlowError(`login: ${login.status}`)
  const consent = await http.as(
    '/interaction/consent',
    browser(
      form({
        transaction: hiddenField(consentHtml, 'transaction'),
        csrf: hiddenField(consentHtml, 'csrf'),
        decision: 'approve',
        remember: 'on',
      }),
      'same-origin',
    ),
  )
  const consentBody = await consent.text()
  noteLostClient(state, clientId, consent, consentBody)
  if (consent.status !== 303) throw new FlowError(`consent: ${consent.status}`)
  const location = new URL(consent.headers.get('location') ?? '', REDIRECT_URI)
  const code = location.searchParams.get('code')
  if (location.searchParams.get('state') !== stateParam || code === null) {
    throw new FlowError(`consent redirect without code: ${location.searchParams.get('error') ?? 'no error'}`)
  }
  return code
}

interface TokenResponse {
  access_token: string
  refresh_token: string
}

async function tokenRequest(
  state: RunState,
  clientId: string,
  values: Record<string, string>,
  step: string,
  index?: number,
): Promise<TokenResponse> {
  const response = await state.http.as('/token', form({ client_id: clientId, ...values }), index)
  const text = await response.text()
  noteLostClient(state, clientId, response, text)
  if (response.status !== 200) throw new FlowError(`${step}: ${response.status} ${text.slice(0, 200)}`)
  const json = JSON.parse(text) as Partial<TokenResponse>
  if (typeof json.access_token !== 'string' || typeof json.refresh_token !== 'string') {
    throw new FlowError(`${step}: incomplete token response`)
  }
  return { access_token: json.access_token, refresh_token: json.refresh_token }
}

let rpcId = 0

/** One JSON-RPC `tools/call` on the resource server; the tool's text. */
export async function callTool(
  send: (url: string, init: RequestInit) => Promise<Response>,
  target: Pick<LoadTarget, 'resource'>,
  accessToken: string,
  name: string,
  args: Record<string, unknown> = {},
): Promise<{ status: number; text: string | undefined }> {
  const response = await send(target.resource, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${accessToken}`,
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id: ++rpcId,
      method: 'tools/call',
      params: { name, arguments: args },
    }),
  })
  if (response.status !== 200) return { status: response.status, text: undefined }
  const json = (await response.json()) as { result?: { content?: { text?: string }[] } }
  return { status: 200, text: json.result?.content?.[0]?.text }
}

async function useTools(state: RunState, accessToken: string, n: number): Promise<void> {
  const send = (url: string, init: RequestInit) => state.http.send(url, init)
  for (const [name, args] of [
    ['add_note', { text: `note of client ${n}` }],
    ['list_notes', {}],
  ] as const) {
    const { status, text } = await callTool(send, state.target, accessToken, name, args)
    if (status !== 200 || text === undefined) throw new FlowError(`tool ${name}: ${status}`)
  }
}

function newState(target: LoadTarget): RunState {
  return {
    http: new Http(target.authorizationServers),
    target,
    ledger: { registrations: [], tokens: [], rotations: new Map() },
    lost: new Set(),
    doubleSpent: 0,
  }
}

/**
 * Registers a client and authorizes it through the forms (requests spread over the authorization
 * servers); returns its id and first tokens.
 */
export async function obtainTokens(
  target: LoadTarget,
): Promise<{ clientId: string; access_token: string; refresh_token: string }> {
  const state = newState(target)
  const clientId = await register(state, 0)
  const verifier = generateCodeVerifier()
  const code = await authorize(state, clientId, await computeCodeChallenge(verifier))
  const tokens = await tokenRequest(
    state,
    clientId,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      resource: target.resource,
    },
    'code exchange',
  )
  return { clientId, ...tokens }
}

/** One simulated client's whole life. */
async function live(
  state: RunState,
  n: number,
  options: Required<Omit<LoadOptions, 'onFlowDone' | 'probeRegistrations'>>,
): Promise<void> {
  const clientId = await register(state, n)
  const verifier = generateCodeVerifier()
  const code = await authorize(state, clientId, await computeCodeChallenge(verifier))
  let tokens = await tokenRequest(
    state,
    clientId,
    {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
      resource: state.target.resource,
    },
    'code exchange',
  )
  const issued: IssuedTokens = {
    clientId,
    accessTokens: [tokens.access_token],
    refreshToken: tokens.refresh_token,
    revoked: false,
    complete: false,
  }
  state.ledger.tokens.push(issued)
  await useTools(state, tokens.access_token, n)
  for (let r = 1; r <= options.refreshes; r++) {
    const presented = tokens.refresh_token
    const values = { grant_type: 'refresh_token', refresh_token: presented }
    if (r === options.duplicateRefresh && state.http.servers.length > 1) {
      // The same token to two replicas at once: both must answer with the one successor.
      const first = state.http.pick()
      const second = (first + 1) % state.http.servers.length
      const [a, b] = await Promise.allSettled([
        tokenRequest(state, clientId, values, 'duplicate refresh', first),
        tokenRequest(state, clientId, values, 'duplicate refresh', second),
      ])
      for (const settled of [a, b]) {
        if (settled.status === 'fulfilled') recordRotation(state, presented, settled.value.refresh_token)
      }
      if (a.status === 'rejected') throw a.reason
      if (b.status === 'rejected') throw b.reason
      tokens = a.value
    } else {
      tokens = await tokenRequest(state, clientId, values, `refresh ${r}`)
      recordRotation(state, presented, tokens.refresh_token)
    }
    issued.refreshToken = tokens.refresh_token
    issued.accessTokens.push(tokens.access_token)
  }
  await useTools(state, tokens.access_token, n)
  if (!options.revoke) {
    issued.complete = true
    return
  }
  const revoked = await state.http.as(
    '/revoke',
    form({ client_id: clientId, token: tokens.refresh_token, token_type_hint: 'refresh_token' }),
  )
  await expectStatus(revoked, 200, 'revoke')
  issued.revoked = true
  const after = await state.http.as(
    '/token',
    form({ client_id: clientId, grant_type: 'refresh_token', refresh_token: tokens.refresh_token }),
  )
  await expectStatus(after, 400, 'refresh after revocation')
  issued.complete = true
}

/**
 * Probes every registration on every authorization server without side effects: a refresh with a
 * token that does not exist is `invalid_grant` for a known client and `invalid_client` for an
 * unknown one. Returns the `client_id`s some server did not know.
 */
export async function findLostRegistrations(
  servers: string[],
  clientIds: readonly string[],
  concurrency = 16,
): Promise<string[]> {
  const lost = new Set<string>()
  let next = 0
  const worker = async () => {
    while (next < clientIds.length) {
      const clientId = clientIds[next++]!
      for (const server of servers) {
        const response = await fetch(new URL('/token', server), {
          ...form({ client_id: clientId, grant_type: 'refresh_token', refresh_token: 'not-a-token' }),
          signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
        })
        const body = (await response.json()) as { error?: string }
        if (body.error !== 'invalid_grant') lost.add(clientId)
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return [...lost]
}

/** Runs the simulated clients with bounded concurrency and returns the figures. */
export async function runLoad(target: LoadTarget, options: LoadOptions = {}): Promise<LoadReport> {
  const resolved = {
    clients: options.clients ?? 200,
    concurrency: options.concurrency ?? 25,
    refreshes: options.refreshes ?? 5,
    duplicateRefresh: options.duplicateRefresh ?? 3,
    maxDurationMs: options.maxDurationMs ?? 10 * 60_000,
    revoke: options.revoke ?? true,
  }
  const state = newState(target)
  const failures: string[] = []
  let flows = 0
  let failedFlows = 0
  let next = 0
  const started = performance.now()
  const deadline = Date.now() + resolved.maxDurationMs
  const worker = async () => {
    while (next < resolved.clients && Date.now() < deadline) {
      const n = next++
      try {
        await live(state, n, resolved)
        flows++
      } catch (error) {
        failedFlows++
        if (failures.length < 20) {
          const code = connectionCode(error)
          failures.push(
            error instanceof FlowError ? error.message : `${(error as Error).name}${code ? ` ${code}` : ''}`,
          )
        }
      }
      options.onFlowDone?.(flows + failedFlows)
    }
  }
  await Promise.all(Array.from({ length: Math.min(resolved.concurrency, resolved.clients) }, worker))
  const durationMs = performance.now() - started
  // Afterwards every acknowledged registration must be known to every server.
  if (options.probeRegistrations !== false) {
    for (const clientId of await findLostRegistrations(
      target.authorizationServers,
      state.ledger.registrations,
    )) {
      state.lost.add(clientId)
    }
  }
  const sorted = Float64Array.from(state.http.latencies).sort()
  return {
    flows,
    failedFlows,
    requests: sorted.length,
    errors5xx: state.http.errors5xx,
    connectionErrors: state.http.connectionErrors,
    lostRegistrations: state.lost.size,
    doubleSpentRefreshTokens: state.doubleSpent,
    p50Ms: percentile(sorted, 50),
    p99Ms: percentile(sorted, 99),
    requestsPerS: sorted.length / (durationMs / 1000),
    durationMs,
    failures,
    serverErrors: state.http.serverErrors,
    ledger: state.ledger,
  }
}

/** The report as `name=value` lines. */
export function formatReport(report: LoadReport, extra: Record<string, string | number> = {}): string {
  const lines: Record<string, string | number> = {
    flows: report.flows,
    failed_flows: report.failedFlows,
    requests: report.requests,
    errors_5xx: report.errors5xx,
    connection_errors: report.connectionErrors,
    lost_registrations: report.lostRegistrations,
    double_spent_refresh_tokens: report.doubleSpentRefreshTokens,
    p50_ms: report.p50Ms.toFixed(1),
    p99_ms: report.p99Ms.toFixed(1),
    requests_per_s: report.requestsPerS.toFixed(1),
    duration_s: (report.durationMs / 1000).toFixed(1),
    ...extra,
  }
  return Object.entries(lines)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
}
