/**
 * SIGKILL of one authorization-server replica in the middle of the load: the other keeps serving,
 * the killed one restarts, and nothing the servers acknowledged is lost — registrations, remembered
 * consents, refresh tokens, signing keys — and every access token issued still verifies at the
 * resource server.
 */
import { describe, expect, it } from 'vitest'
import { createPostgresStore } from '../../src/storage/sql/postgres.js'
import { callTool, findLostRegistrations, REDIRECT_URI, runLoad } from '../load/load.js'
import { replicasOnPostgres } from '../load/postgres-replicas.js'

const CLIENTS = 40

async function jwksKids(server: string): Promise<string[]> {
  const response = await fetch(new URL('/jwks', server))
  const { keys } = (await response.json()) as { keys: { kid: string }[] }
  return keys.map((k) => k.kid).sort()
}

describe('an authorization-server replica killed under load', () => {
  const suite = replicasOnPostgres()

  it('keeps serving on the other replica and loses nothing acknowledged', async () => {
    const { database, replicas } = suite
    const kidsBefore = await jwksKids(replicas.authorizationServers[0]!)
    expect(kidsBefore.length).toBeGreaterThan(0)

    let killed: Promise<void> | undefined
    let restarted: Promise<void> | undefined
    let flowsWhileDown = 0
    const report = await runLoad(replicas, {
      clients: CLIENTS,
      concurrency: 4,
      revoke: false,
      // Probed below, once the killed replica is back.
      probeRegistrations: false,
      onFlowDone(done) {
        if (done === 6) killed = replicas.kill(1, 'SIGKILL')
        if (killed !== undefined && restarted === undefined) flowsWhileDown++
        // Restart once the survivor has carried a good part of the load alone.
        if (done === 12) restarted = killed!.then(() => replicas.restart(1))
      },
    })
    await restarted
    expect(replicas.alive(0) && replicas.alive(1)).toBe(true)
    // The kill was ours; nothing else exited.
    expect(replicas.crashes).toEqual([])

    // The survivor kept serving: lives went on ending while replica 1 was down.
    expect(flowsWhileDown).toBeGreaterThan(4)
    // Only lives with a request in flight on the killed process can fail, and none answered 5xx.
    expect(report.errors5xx).toBe(0)
    expect(report.failedFlows).toBeLessThanOrEqual(4)
    expect(report.flows).toBeGreaterThanOrEqual(CLIENTS - 4)
    expect(report.doubleSpentRefreshTokens).toBe(0)
    expect(report.lostRegistrations).toBe(0)

    // Registrations: every acknowledged one is known to both, the restarted replica included.
    expect(report.ledger.registrations.length).toBeGreaterThanOrEqual(CLIENTS - 4)
    expect(await findLostRegistrations(replicas.authorizationServers, report.ledger.registrations)).toEqual(
      [],
    )

    // Keys: both publish the keys published before the kill.
    expect(await jwksKids(replicas.authorizationServers[0]!)).toEqual(kidsBefore)
    expect(await jwksKids(replicas.authorizationServers[1]!)).toEqual(kidsBefore)

    // Access tokens: every one issued, even to lives that failed later, verifies at the resource server.
    const accessTokens = report.ledger.tokens.flatMap((t) => t.accessTokens)
    expect(accessTokens.length).toBeGreaterThanOrEqual((CLIENTS - 4) * 6)
    for (const token of accessTokens) {
      expect((await callTool(fetch, replicas, token, 'whoami')).status).toBe(200)
    }

    // Refresh tokens and consents of the finished lives: usable on the restarted replica, remembered.
    const store = await createPostgresStore({
      connectionString: database.url,
      encryptionKey: replicas.encryptionKey,
    })
    try {
      const finished = report.ledger.tokens.filter((t) => t.complete)
      expect(finished.length).toBe(report.flows)
      for (const issued of finished) {
        const response = await fetch(new URL('/token', replicas.authorizationServers[1]), {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({
            grant_type: 'refresh_token',
            client_id: issued.clientId,
            refresh_token: issued.refreshToken,
          }),
        })
        expect(response.status).toBe(200)
        const consent = await store.consents.get(
          {
            subject: `user-${replicas.username}`,
            client_id: issued.clientId,
            resource: replicas.resource,
            redirect_uri: REDIRECT_URI,
          },
          Date.now(),
        )
        expect(consent?.scopes.sort()).toEqual(['notes:read', 'notes:write'])
      }
    } finally {
      await store.close()
    }
  }, 180_000)
})
