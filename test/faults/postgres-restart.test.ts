/**
 * Postgres restarted under load (a throwaway cluster of this test's own): while the database is
 * down the authorization servers answer `503` with `Retry-After` and no stack trace, never a `500`;
 * the resource server keeps verifying tokens with its cached keys; once the database is back,
 * everything works again without restarting any of our processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callTool, formatReport, obtainTokens, runLoad, type ServerErrorAnswer } from '../load/load.js'
import { type ReplicaSet, startReplicas } from '../load/replicas.js'
import { type RestartableCluster, startRestartableCluster } from './throwaway-postgres.js'

const OUTAGE_MS = 3000
// A stack frame ("at f (file.ts:1:2)") or an error class name in a body means internals leaked.
const STACK = /\bat \S+ \(|\.[cm]?[jt]s:\d+:\d+|\b[A-Z][a-zA-Z]*Error\b/

describe('Postgres restarted under load', () => {
  let cluster: RestartableCluster
  let replicas: ReplicaSet

  beforeAll(async () => {
    cluster = await startRestartableCluster()
    replicas = await startReplicas({ store: { kind: 'postgres', url: cluster.url } })
  }, 120_000)

  afterAll(async () => {
    await replicas?.stop()
    await cluster?.destroy()
  })

  /** Requests that each need the database, sent to every replica. */
  async function probe(clientId: string, refreshToken: string): Promise<ServerErrorAnswer[]> {
    const requests: [string, RequestInit][] = [
      [
        '/register',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            redirect_uris: ['http://127.0.0.1:1/cb'],
            token_endpoint_auth_method: 'none',
          }),
        },
      ],
      [
        '/token',
        {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: clientId,
            refresh_token: refreshToken,
          }),
        },
      ],
      [
        `/authorize?${new URLSearchParams({ response_type: 'code', client_id: clientId, redirect_uri: 'http://127.0.0.1:43999/callback', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256', resource: replicas.resource })}`,
        { headers: { 'sec-fetch-site': 'none' } },
      ],
    ]
    const answers: ServerErrorAnswer[] = []
    for (const server of replicas.authorizationServers) {
      for (const [path, init] of requests) {
        const response = await fetch(new URL(path, server), { redirect: 'manual', ...init })
        answers.push({
          status: response.status,
          path: path.split('?')[0]!,
          retryAfter: response.headers.get('retry-after'),
          body: (await response.text()).slice(0, 2000),
        })
      }
    }
    return answers
  }

  it('answers 503 with Retry-After while it is down and recovers without a restart of the servers', async () => {
    const before = await obtainTokens(replicas)
    expect((await callTool(fetch, replicas, before.access_token, 'whoami')).status).toBe(200)

    let done = 0
    const load = runLoad(replicas, {
      clients: 30,
      concurrency: 4,
      probeRegistrations: false,
      onFlowDone(n) {
        done = n
      },
    })
    while (done < 3) await new Promise((resolve) => setTimeout(resolve, 50))

    await cluster.stopServer()
    const duringOutage: ServerErrorAnswer[] = []
    const toolStatuses: number[] = []
    const until = Date.now() + OUTAGE_MS
    while (Date.now() < until) {
      duringOutage.push(...(await probe(before.clientId, 'not-a-token')))
      toolStatuses.push((await callTool(fetch, replicas, before.access_token, 'whoami')).status)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    await cluster.startServer()
    const report = await load

    // Every answer that needed the database was a clean 503 with Retry-After.
    const failed = [...duringOutage.filter((a) => a.status >= 500), ...report.serverErrors]
    expect(failed.length).toBeGreaterThan(0)
    for (const answer of failed) {
      expect({ status: answer.status, path: answer.path }).toEqual({ status: 503, path: answer.path })
      expect(answer.retryAfter).toMatch(/^\d+$/)
      expect(answer.body).not.toMatch(STACK)
    }
    // Tokens are verified with cached keys: the tools stayed reachable.
    expect(toolStatuses.every((s) => s === 200)).toBe(true)
    expect(replicas.crashes).toEqual([])

    // Back without restarting anything: a fresh load runs clean, and the old family still refreshes.
    const after = await runLoad(replicas, { clients: 5, concurrency: 5 })
    expect(after.failures, formatReport(after)).toEqual([])
    expect(after.errors5xx).toBe(0)
    expect(after.lostRegistrations).toBe(0)
    const refreshed = await fetch(new URL('/token', replicas.authorizationServers[1]), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: before.clientId,
        refresh_token: before.refresh_token,
      }),
    })
    expect(refreshed.status).toBe(200)
  }, 180_000)
})
