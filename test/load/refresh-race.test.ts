/**
 * Refresh-token rotation raced across two authorization-server processes on one Postgres database:
 * the same token presented to both at once must produce one successor, duplicates inside the grace
 * window get that same successor, and a rotated token presented later revokes the whole family.
 *
 * @see [OAuth 2.1 §4.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3.1)
 * @see [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type TestDatabase, withPostgres } from '../support/postgres.js'
import { callTool, obtainTokens } from './load.js'
import { type ReplicaSet, startReplicas } from './replicas.js'

const GRACE_MS = 2000

interface Answer {
  status: number
  body: { access_token?: string; refresh_token?: string; error?: string }
}

describe('refresh-token races across replicas', () => {
  let database: TestDatabase
  let replicas: ReplicaSet

  beforeAll(async () => {
    database = await withPostgres()
    replicas = await startReplicas({
      store: { kind: 'postgres', url: database.url },
      refreshGraceMs: GRACE_MS,
    })
  }, 120_000)

  afterAll(async () => {
    await replicas?.stop()
    await database?.drop()
  })

  async function refresh(server: number, clientId: string, token: string): Promise<Answer> {
    const response = await fetch(new URL('/token', replicas.authorizationServers[server]), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token', client_id: clientId, refresh_token: token }),
    })
    return { status: response.status, body: (await response.json()) as Answer['body'] }
  }

  it('gives one successor per token when both replicas get it at once, 50 times over, then revokes the family on reuse', async () => {
    const { clientId, refresh_token } = await obtainTokens(replicas)
    const presented: string[] = []
    const successors = new Set<string>()
    let token = refresh_token
    for (let round = 0; round < 50; round++) {
      // Two presentations per replica, all in flight together.
      const answers = await Promise.all([0, 1, 0, 1].map((server) => refresh(server, clientId, token)))
      expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200])
      const next = new Set(answers.map((a) => a.body.refresh_token))
      expect(next.size).toBe(1)
      const successor = answers[0]!.body.refresh_token!
      expect(successor).not.toBe(token)
      expect(successors.has(successor)).toBe(false)
      successors.add(successor)
      presented.push(token)
      token = successor
    }

    // The token of round 10 was rotated, and so was its successor: presenting it is reuse.
    const reuse = await refresh(1, clientId, presented[10]!)
    expect(reuse).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) })
    // The family is revoked: the current token fails on either replica.
    expect((await refresh(0, clientId, token)).body.error).toBe('invalid_grant')
    expect((await refresh(1, clientId, token)).body.error).toBe('invalid_grant')
  }, 120_000)

  it('answers a duplicate on the other replica inside the grace window with the same successor, and revokes after it', async () => {
    const { clientId, refresh_token, access_token } = await obtainTokens(replicas)
    const first = await refresh(0, clientId, refresh_token)
    expect(first.status).toBe(200)
    const duplicate = await refresh(1, clientId, refresh_token)
    expect(duplicate.status).toBe(200)
    expect(duplicate.body.refresh_token).toBe(first.body.refresh_token)

    await new Promise((resolve) => setTimeout(resolve, GRACE_MS + 300))
    const late = await refresh(1, clientId, refresh_token)
    expect(late).toEqual({ status: 400, body: expect.objectContaining({ error: 'invalid_grant' }) })
    // The successor handed out twice is revoked with its family.
    expect((await refresh(0, clientId, first.body.refresh_token!)).body.error).toBe('invalid_grant')
    // Access tokens are JWTs verified locally: the one issued first still reaches the tools until it expires.
    const call = await callTool(fetch, replicas, access_token, 'whoami')
    expect(call.status).toBe(200)
  }, 120_000)

  it('answers eight concurrent presentations of a fresh token, spread over both replicas, with one successor', async () => {
    const { clientId, refresh_token } = await obtainTokens(replicas)
    // Eight presentations at once of a fresh token, spread over both replicas.
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => refresh(i % 2, clientId, refresh_token)),
    )
    expect(answers.every((a) => a.status === 200)).toBe(true)
    expect(new Set(answers.map((a) => a.body.refresh_token)).size).toBe(1)
    expect(new Set(answers.map((a) => a.body.access_token)).size).toBe(8)
  }, 120_000)
})
