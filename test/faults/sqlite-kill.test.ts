/**
 * SQLite mode: the authorization server is killed with SIGKILL in the middle of the load and
 * started again on the same file. Nothing committed is lost: every acknowledged registration is
 * still known, every access token received still verifies, every finished life's refresh token
 * still refreshes, and the signing keys are the same.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { callTool, findLostRegistrations, formatReport, runLoad } from '../load/load.js'
import { type ReplicaSet, startReplicas } from '../load/replicas.js'

const CLIENTS = 30

async function jwksKids(server: string): Promise<string[]> {
  const { keys } = (await (await fetch(new URL('/jwks', server))).json()) as { keys: { kid: string }[] }
  return keys.map((k) => k.kid).sort()
}

describe('the authorization server on SQLite killed under load', () => {
  let dir: string
  let replicas: ReplicaSet

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-sqlite-kill-'))
    replicas = await startReplicas({
      store: { kind: 'sqlite', filename: join(dir, 'portcullis.db') },
      authorizationServers: 1,
    })
  }, 120_000)

  afterAll(async () => {
    await replicas?.stop()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  it('keeps every committed registration, token and key across the kill', async () => {
    const server = replicas.authorizationServers[0]!
    const kidsBefore = await jwksKids(server)
    let restarted: Promise<void> | undefined
    const report = await runLoad(replicas, {
      clients: CLIENTS,
      concurrency: 4,
      revoke: false,
      probeRegistrations: false,
      onFlowDone(done) {
        // Kill and start again at once: lives with a request in flight fail, the others wait for the restart.
        if (done === 8) restarted = replicas.restart(0)
      },
    })
    await restarted
    expect(replicas.alive(0)).toBe(true)
    expect(replicas.crashes).toEqual([])
    expect(report.errors5xx, formatReport(report)).toBe(0)
    expect(report.flows).toBeGreaterThanOrEqual(CLIENTS - 4)
    expect(report.doubleSpentRefreshTokens).toBe(0)

    expect(await jwksKids(server)).toEqual(kidsBefore)
    expect(report.ledger.registrations.length).toBeGreaterThanOrEqual(CLIENTS - 4)
    expect(await findLostRegistrations([server], report.ledger.registrations)).toEqual([])
    for (const token of report.ledger.tokens.flatMap((t) => t.accessTokens)) {
      expect((await callTool(fetch, replicas, token, 'whoami')).status).toBe(200)
    }
    const finished = report.ledger.tokens.filter((t) => t.complete)
    expect(finished.length).toBe(report.flows)
    for (const issued of finished) {
      const response = await fetch(new URL('/token', server), {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          client_id: issued.clientId,
          refresh_token: issued.refreshToken,
        }),
      })
      expect(response.status).toBe(200)
    }
  }, 180_000)
})
