/**
 * The fuzz run: generated hostile requests (see `requests.ts`) against a replica set for a fixed
 * time, with bounded concurrency, counting 5xx answers, crashed processes, hangs, and the heap of
 * every process (after a full GC) before and after.
 */
import fc from 'fast-check'
import { obtainTokens, REDIRECT_URI } from '../load/load.js'
import type { ReplicaSet } from '../load/replicas.js'
import { type FuzzContext, type RawAnswer, type RawRequest, requestArb, sendRaw } from './requests.js'

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  seconds: number
  /** fast-check seed; the same seed generates the same requests. Default: random. */
  seed?: number
  /** Requests in flight. Default 12. */
  concurrency?: number
}

/** A 5xx or a hang, for the report (the request without its body). */
export interface FuzzFinding {
  status: number | undefined
  method: string
  target: string
  /** The request's headers and body, cut short. */
  requestHeaders: string[]
  requestBody: string
  head: string
  body: string
}

/** The figures of a run. */
export interface FuzzReport {
  seed: number
  requests: number
  errors5xx: number
  crashes: number
  timeouts: number
  /** Connections closed with no status line (Node refusing malformed bytes). */
  noResponse: number
  /** Answers by status class. */
  statuses: Record<string, number>
  heapBeforeMb: number
  heapAfterMb: number
  /** Largest growth of one process's heap, after a full GC at both ends. */
  heapGrowthMb: number
  findings: FuzzFinding[]
}

const MB = 1024 * 1024
const WARM_UP_REQUESTS = 400
const BATCH = 200

async function fuzzContext(replicas: ReplicaSet): Promise<FuzzContext> {
  const tokens = await obtainTokens(replicas)
  // A pending transaction on its login page, with the browser's cookie and the form's CSRF token.
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: tokens.clientId,
    redirect_uri: REDIRECT_URI,
    code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    code_challenge_method: 'S256',
    resource: replicas.resource,
  })
  const page = await fetch(new URL(`/authorize?${query}`, replicas.authorizationServers[0]), {
    headers: { 'sec-fetch-site': 'none' },
  })
  const html = await page.text()
  const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1] ?? ''
  return {
    clientId: tokens.clientId,
    redirectUri: REDIRECT_URI,
    resource: replicas.resource,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token,
    transaction: field('transaction'),
    csrf: field('csrf').replace(/&amp;/g, '&'),
    cookie: page.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; '),
  }
}

async function heaps(replicas: ReplicaSet): Promise<number[]> {
  const which: (number | 'rs')[] = [...replicas.authorizationServers.keys(), 'rs']
  const result: number[] = []
  // Two collections apart: what a first GC frees late (finalizers, weak refs) is gone by the second.
  for (const w of which) {
    await replicas.heap(w)
    result.push(await replicas.heap(w))
  }
  return result
}

/** Runs the fuzz for `options.seconds` and returns the figures. */
export async function runFuzz(replicas: ReplicaSet, options: FuzzOptions): Promise<FuzzReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31)
  const ctx = await fuzzContext(replicas)
  const arbitrary = requestArb(ctx)
  const ports = {
    as: replicas.authorizationServers.map((u) => Number(new URL(u).port)),
    rs: Number(new URL(replicas.resourceServer).port),
  }
  const report: FuzzReport = {
    seed,
    requests: 0,
    errors5xx: 0,
    crashes: 0,
    timeouts: 0,
    noResponse: 0,
    statuses: {},
    heapBeforeMb: 0,
    heapAfterMb: 0,
    heapGrowthMb: 0,
    findings: [],
  }
  let batch = 0
  let queue: RawRequest[] = []
  let turn = 0
  const next = (): RawRequest => {
    if (queue.length === 0) queue = fc.sample(arbitrary, { seed: (seed + batch++) | 0, numRuns: BATCH })
    return queue.pop()!
  }
  const record = (request: RawRequest, answer: RawAnswer, counting: boolean) => {
    if (!counting) return
    report.requests++
    const cls = answer.status === undefined ? 'none' : `${Math.floor(answer.status / 100)}xx`
    report.statuses[cls] = (report.statuses[cls] ?? 0) + 1
    if (answer.timedOut) report.timeouts++
    else if (answer.status === undefined) report.noResponse++
    if ((answer.status !== undefined && answer.status >= 500) || answer.timedOut) {
      if (answer.status !== undefined) report.errors5xx++
      if (report.findings.length < 20) {
        report.findings.push({
          status: answer.status,
          method: request.method,
          target: request.target.toString('latin1').slice(0, 300),
          requestHeaders: request.headers.map(([k, v]) => `${k}: ${String(v).slice(0, 200)}`),
          requestBody: request.body.toString('latin1').slice(0, 600),
          head: answer.head.slice(0, 500),
          body: answer.body.slice(0, 500),
        })
      }
    }
  }
  const send = async (counting: boolean) => {
    const request = next()
    const port = request.server === 'rs' ? ports.rs : ports.as[turn++ % ports.as.length]!
    record(request, await sendRaw(port, request), counting)
  }
  const concurrency = options.concurrency ?? 12
  const pool = async (count: number | undefined, until: number, counting: boolean) => {
    let sent = 0
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while ((count === undefined || sent < count) && Date.now() < until) {
          sent++
          await send(counting)
        }
      }),
    )
  }
  // Warm-up first, so caches and compiled code are in place before the heap is measured.
  await pool(WARM_UP_REQUESTS, Date.now() + 60_000, false)
  const before = await heaps(replicas)
  await pool(undefined, Date.now() + options.seconds * 1000, true)
  const after = await heaps(replicas)
  report.crashes = replicas.crashes.length
  report.heapBeforeMb = before.reduce((a, b) => a + b, 0) / MB
  report.heapAfterMb = after.reduce((a, b) => a + b, 0) / MB
  report.heapGrowthMb = Math.max(...after.map((h, i) => (h - before[i]!) / MB))
  return report
}

/** The report as `name=value` lines. */
export function formatFuzzReport(report: FuzzReport, extra: Record<string, string | number> = {}): string {
  const lines: Record<string, string | number> = {
    requests: report.requests,
    errors_5xx: report.errors5xx,
    crashes: report.crashes,
    timeouts: report.timeouts,
    no_response: report.noResponse,
    ...Object.fromEntries(Object.entries(report.statuses).map(([k, v]) => [`status_${k}`, v])),
    heap_before_mb: report.heapBeforeMb.toFixed(1),
    heap_after_mb: report.heapAfterMb.toFixed(1),
    heap_growth_mb: report.heapGrowthMb.toFixed(1),
    seed: report.seed,
    ...extra,
  }
  return Object.entries(lines)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
}
