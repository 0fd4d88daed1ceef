/**
 * `npm run load`: two authorization-server processes and one resource server (the demo MCP
 * server) sharing one Postgres database, and N simulated MCP clients each living a whole life
 * (registration, login and consent through the real forms, code exchange, tool calls, refreshes,
 * revocation), requests spread over the two authorization servers in turn.
 *
 * Flags: `--clients N` (default 200), `--concurrency N` (clients at once, default 25),
 * `--iterations N` (PBKDF2 iterations of the load's account, default 1000, so the run measures the
 * server rather than password hashing), `--refreshes N` (default 5).
 * Postgres: `PORTCULLIS_TEST_POSTGRES_URL`, else 127.0.0.1:5432, else a throwaway cluster; the
 * run's database is created and dropped. Prints `name=value` lines; exits 1 when a target is missed
 * (any 5xx, lost registration or double-spent refresh token, or a failed flow).
 */
import { parseArgs } from 'node:util'
import { formatReport, runLoad } from '../test/load/load.js'
import { startReplicas } from '../test/load/replicas.js'
import { withPostgres } from '../test/support/postgres.js'

const { values } = parseArgs({
  options: {
    clients: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '25' },
    iterations: { type: 'string', default: '1000' },
    refreshes: { type: 'string', default: '5' },
  },
})
const number = (name: keyof typeof values): number => {
  const n = Number(values[name])
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`)
  return n
}
const clients = number('clients')
const concurrency = number('concurrency')
const iterations = number('iterations')

const database = await withPostgres()
let failed = true
try {
  const replicas = await startReplicas({ store: { kind: 'postgres', url: database.url }, iterations })
  try {
    const report = await runLoad(replicas, { clients, concurrency, refreshes: number('refreshes') })
    process.stdout.write(
      `${formatReport(report, {
        clients,
        concurrency,
        authorization_servers: replicas.authorizationServers.length,
        pbkdf2_iterations: iterations,
        crashes: replicas.crashes.length,
      })}\n`,
    )
    for (const line of report.failures) process.stderr.write(`failure: ${line}\n`)
    for (const e of report.serverErrors)
      process.stderr.write(`5xx: ${e.status} ${e.path} ${e.body.slice(0, 200)}\n`)
    failed =
      report.errors5xx > 0 ||
      report.lostRegistrations > 0 ||
      report.doubleSpentRefreshTokens > 0 ||
      report.failedFlows > 0 ||
      replicas.crashes.length > 0
  } finally {
    await replicas.stop()
  }
} finally {
  await database.drop()
}
process.exit(failed ? 1 : 0)
