/**
 * The short version of `npm run fuzz`: five seconds of generated hostile requests against two
 * authorization-server processes and the resource server on one Postgres database. No 5xx, no
 * crash, no hang, and the heap of every process stays where it was.
 */
import { describe, expect, it } from 'vitest'
import { replicasOnPostgres } from '../load/postgres-replicas.js'
import { formatFuzzReport, runFuzz } from './fuzz.js'

// A fixed seed keeps the suite repeatable; `npm run fuzz` picks a new one each run.
const SEED = Number(process.env['PORTCULLIS_FUZZ_SEED'] ?? 20260728)

describe('fuzzing every endpoint', () => {
  const suite = replicasOnPostgres()

  it('answers every generated request without a 5xx, a crash or a hang', async () => {
    const { replicas } = suite
    const report = await runFuzz(replicas, { seconds: 5, seed: SEED })
    const summary = `${formatFuzzReport(report)}\n${JSON.stringify(report.findings, null, 1)}`
    expect(report.requests, summary).toBeGreaterThan(100)
    expect(report.errors5xx, summary).toBe(0)
    expect(report.timeouts, summary).toBe(0)
    expect(report.crashes, summary).toBe(0)
    expect(replicas.crashes).toEqual([])
    // The generators reach past the first checks: some requests succeed, some redirect.
    expect(report.statuses['2xx'] ?? 0).toBeGreaterThan(0)
    expect(report.statuses['4xx'] ?? 0).toBeGreaterThan(report.requests / 2)
    // Growth after a full GC stays small (the 60 s run's figure is in bench/README.md).
    expect(report.heapGrowthMb, summary).toBeLessThan(16)
    // Every process still answers.
    for (const server of replicas.authorizationServers) {
      expect((await fetch(new URL('/jwks', server))).status).toBe(200)
    }
  }, 120_000)
})
