/**
 * The short version of `npm run load`: two authorization-server processes and the resource server
 * on one Postgres database, ten simulated MCP clients living their whole life across both.
 */
import { describe, expect, it } from 'vitest'
import { formatReport, runLoad } from './load.js'
import { replicasOnPostgres } from './postgres-replicas.js'

describe('load across two authorization-server replicas on Postgres', () => {
  const suite = replicasOnPostgres()

  it('completes every life with no 5xx, no lost registration and no double-spent refresh token', async () => {
    const { replicas } = suite
    const report = await runLoad(replicas, { clients: 10, concurrency: 5 })
    const summary = formatReport(report)
    expect(report.failures, summary).toEqual([])
    expect(report.flows).toBe(10)
    expect(report.errors5xx).toBe(0)
    expect(report.lostRegistrations).toBe(0)
    expect(report.doubleSpentRefreshTokens).toBe(0)
    // register, authorize, login, consent, exchange, 4 tool calls, 4 + 2 refreshes, revoke, check
    expect(report.requests).toBe(10 * 17)
    // Each duplicated refresh was answered twice with one successor, and recorded once.
    expect(report.ledger.rotations.size).toBe(10 * 5)
    expect(new Set(report.ledger.registrations).size).toBe(10)
    expect(report.ledger.tokens.every((t) => t.complete && t.revoked)).toBe(true)
    expect(replicas.crashes).toEqual([])
    expect(summary).toMatch(/^flows=10$/m)
    expect(summary).toMatch(/^requests_per_s=\d+\.\d$/m)
  }, 120_000)
})
