/**
 * `npm run fuzz`: two authorization-server processes and the resource server on one Postgres
 * database, fed generated hostile requests for `--seconds N` (default 60) with `--concurrency N`
 * requests in flight (default 12); `--seed N` replays a run. Prints `name=value` lines; exits 1
 * on any 5xx, crash or hang.
 */
import { parseArgs } from 'node:util'
import { startReplicas } from '../load/replicas.js'
import { withPostgres } from '../support/postgres.js'
import { formatFuzzReport, runFuzz } from './fuzz.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    concurrency: { type: 'string', default: '12' },
    seed: { type: 'string' },
  },
})
const seconds = Number(values.seconds)
const concurrency = Number(values.concurrency)
if (!(seconds > 0) || !(concurrency > 0)) throw new Error('--seconds and --concurrency must be positive')

const database = await withPostgres()
let failed = true
try {
  const replicas = await startReplicas({ store: { kind: 'postgres', url: database.url } })
  try {
    const report = await runFuzz(replicas, {
      seconds,
      concurrency,
      ...(values.seed === undefined ? {} : { seed: Number(values.seed) }),
    })
    process.stdout.write(`${formatFuzzReport(report, { seconds, concurrency })}\n`)
    for (const f of report.findings) process.stderr.write(`finding: ${JSON.stringify(f)}\n`)
    if (report.errors5xx > 0) {
      for (const which of [...replicas.authorizationServers.keys(), 'rs' as const]) {
        process.stderr.write(`stderr of ${which}:\n${replicas.stderr(which)}\n`)
      }
    }
    for (const c of replicas.crashes)
      process.stderr.write(`crash: ${c.name} ${c.code ?? c.signal}\n${c.stderr}\n`)
    failed = report.errors5xx > 0 || report.crashes > 0 || report.timeouts > 0
  } finally {
    await replicas.stop()
  }
} finally {
  await database.drop()
}
process.exit(failed ? 1 : 0)
