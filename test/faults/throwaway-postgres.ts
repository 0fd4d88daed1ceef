/**
 * A throwaway PostgreSQL cluster that can be stopped and started again: initdb in a temporary
 * directory, a random loopback port, `pg_ctl` from Debian's `postgresql` package (run as the
 * `postgres` user when we are root). Only this cluster is ever stopped: the machine's shared
 * server, which other tests use, is never touched.
 */
import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { freePort } from '../load/replicas.js'

const run = promisify(execFile)

/** A running throwaway cluster. */
export interface RestartableCluster {
  /** URL of its `postgres` database. */
  url: string
  /** Fast shutdown (connections are terminated, as in a real restart). */
  stopServer(): Promise<void>
  startServer(): Promise<void>
  /** Stops the server and deletes the cluster. */
  destroy(): Promise<void>
}

function binDir(): string {
  const root = '/usr/lib/postgresql'
  const version = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))[0]
    : undefined
  if (version === undefined)
    throw new Error('no PostgreSQL server binaries: install Debian package "postgresql"')
  return join(root, version, 'bin')
}

/** Creates and starts the cluster. */
export async function startRestartableCluster(): Promise<RestartableCluster> {
  const bin = binDir()
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pg-fault-'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) {
    const uid = Number((await run('id', ['-u', 'postgres'])).stdout.trim())
    const gid = Number((await run('id', ['-g', 'postgres'])).stdout.trim())
    chownSync(dir, uid, gid)
  }
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args)
  const data = join(dir, 'data')
  await as('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`
  const startServer = async () => {
    await as('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'])
  }
  const stopServer = async () => {
    await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'])
  }
  await startServer()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    startServer,
    stopServer,
    async destroy() {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
