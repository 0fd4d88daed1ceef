/**
 * `portcullis keys`: the authorization server's signing keys in a `serve` data directory or
 * Postgres store.
 *
 * @module
 */
import { Command } from 'commander'
import { rotateSigningKeys } from '../../authorization-server/index.js'
import { CliError } from '../errors.js'
import { SERVE_DEFAULTS } from '../serve/config.js'
import { ensureDataDir } from '../serve/data-dir.js'
import { openServeStore, serveSecrets } from '../serve/start-serve.js'

interface KeysFlags {
  dataDir: string
  postgres?: string
  json?: boolean
}

interface RotateFlags extends KeysFlags {
  now?: boolean
  retireCurrent?: boolean
  activateAfter: string
  accessTokenLifetime: string
}

function storeOptions(command: Command): Command {
  return command
    .option('--data-dir <dir>', 'the data directory of portcullis serve', SERVE_DEFAULTS.dataDir)
    .option('--postgres <url>', 'the Postgres store instead of the data directory’s SQLite file')
    .option('--json', 'print JSON')
}

async function withStore<T>(
  flags: KeysFlags,
  run: (store: Awaited<ReturnType<typeof openServeStore>>['store']) => Promise<T>,
): Promise<T> {
  const dataDir = ensureDataDir(flags.dataDir)
  const secrets = await serveSecrets(dataDir)
  const { store } = await openServeStore(
    flags.postgres === undefined ? {} : { postgres: flags.postgres },
    dataDir,
    secrets,
  )
  try {
    return await run(store)
  } finally {
    await store.close()
  }
}

function positiveNumber(value: string, flag: string): number {
  const number = Number(value)
  if (!Number.isFinite(number) || number < 0)
    throw new CliError('ERR_USAGE', `${flag} must be a number >= 0, not ${value}`)
  return number
}

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

/** The `keys` command and its subcommands. */
export function keysCommand(): Command {
  const keys = new Command('keys').description('manage the authorization server’s signing keys')

  keys.addCommand(
    storeOptions(new Command('rotate'))
      .description('add a new signing key; the current one keeps verifying until its tokens expire')
      .option(
        '--activate-after <minutes>',
        'minutes before the new key signs (longer than every JWKS cache)',
        '15',
      )
      .option(
        '--retire-current',
        'stop publishing the current keys at once (key compromise): their tokens stop working',
      )
      .option(
        '--access-token-lifetime <seconds>',
        'the access-token lifetime of the server (how long an old key stays published)',
        '3600',
      )
      .addHelpText(
        'after',
        `
A running serve picks the new key up within 30 seconds and starts signing with it once it is
active; resource servers see it in the JWKS before that.

Examples:
  $ portcullis keys rotate
  $ portcullis keys rotate --data-dir ~/.portcullis-demo --activate-after 60
  $ portcullis keys rotate --retire-current   # after a key leak`,
      )
      .action(async (flags: RotateFlags) => {
        const activateAfterMs = positiveNumber(flags.activateAfter, '--activate-after') * 60_000
        const accessTokenLifetime = positiveNumber(flags.accessTokenLifetime, '--access-token-lifetime')
        if (accessTokenLifetime === 0)
          throw new CliError('ERR_USAGE', '--access-token-lifetime must be more than 0 seconds')
        const result = await withStore(flags, (store) =>
          rotateSigningKeys(store, {
            activateAfterMs,
            retireCurrent: flags.retireCurrent === true,
            accessTokenLifetime,
          }),
        )
        if (flags.json === true) process.stdout.write(`${JSON.stringify(result)}\n`)
        else process.stdout.write(`new key ${result.kid}, signing from ${iso(result.activates_at)}\n`)
      }),
  )

  keys.addCommand(
    storeOptions(new Command('list'))
      .description('list the signing keys and their state')
      .addHelpText('after', '\nExamples:\n  $ portcullis keys list\n  $ portcullis keys list --json')
      .action(async (flags: KeysFlags) => {
        const records = await withStore(flags, (store) => store.signingKeys.list())
        // Public facts only: the private halves stay in the store.
        const rows = records.map((r) => ({
          kid: r.kid,
          alg: r.alg,
          status: r.status,
          created_at: iso(r.created_at),
          activates_at: iso(r.activates_at),
          retires_at: iso(r.retires_at),
        }))
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`)
          return
        }
        if (rows.length === 0)
          process.stdout.write('no keys yet (the first is made when the server starts)\n')
        for (const row of rows) {
          process.stdout.write(
            `${row.kid}  ${row.alg}  ${row.status.padEnd(8)} active from ${row.activates_at}${row.retires_at === undefined ? '' : `, retires ${row.retires_at}`}\n`,
          )
        }
      }),
  )
  return keys
}
