/**
 * Postgres for tests: a database of its own per caller, created and dropped.
 *
 * The server is `PORTCULLIS_TEST_POSTGRES_URL` when set, else `postgres://postgres@127.0.0.1:5432/postgres`
 * when it answers, else a throwaway cluster started here (`initdb` + `pg_ctl` from Debian's
 * `postgresql` package, run as the `postgres` user when we are root, on a random loopback port in a
 * temporary directory) and stopped when its last database is dropped.
 * `PORTCULLIS_TEST_POSTGRES_THROWAWAY=1` forces the throwaway cluster.
 */

import { execFile } from 'node:child_process'
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import pg from 'pg'

const run = promisify(execFile)
const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/postgres'

/** A database of its own and how to drop it. */
export interface TestDatabase {
  url: string
  drop(): Promise<void>
}

/** A running throwaway cluster. */
export interface ThrowawayCluster {
  /** URL of its `postgres` database. */
  url: string
  stop(): Promise<void>
}

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  try {
    await client.connect()
    await client.query('select 1')
    return true
  } catch {
    return false
  } finally {
    await client.end().catch(() => {})
  }
}

function postgresBinDir(): string {
  const root = '/usr/lib/postgresql'
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((v) => existsSync(join(root, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : []
  if (versions[0] === undefined) {
    throw new Error('no PostgreSQL server binaries found: install Debian package "postgresql"')
  }
  return join(root, versions[0], 'bin')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()))
    })
  })
}

/** Starts a throwaway cluster on a random loopback port in a temporary directory. */
export async function startThrowawayCluster(): Promise<ThrowawayCluster> {
  const bin = postgresBinDir()
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-pg-'))
  const asRoot = process.getuid?.() === 0
  let uid = -1
  let gid = -1
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: g } = await run('id', ['-g', 'postgres'])
    uid = Number(stdout.trim())
    gid = Number(g.trim())
    chownSync(dir, uid, gid)
  }
  const as = (cmd: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]) : run(join(bin, cmd), args)
  const data = join(dir, 'data')
  await as('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const serverOptions = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`
  await as('pg_ctl', ['-D', data, '-o', serverOptions, '-l', join(dir, 'log'), '-w', '-t', '60', 'start'])
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async stop() {
      await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {})
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

let server: Promise<{ url: string; cluster?: ThrowawayCluster }> | undefined
let users = 0

async function findServer(): Promise<{ url: string; cluster?: ThrowawayCluster }> {
  const forced = process.env['PORTCULLIS_TEST_POSTGRES_THROWAWAY'] === '1'
  const url = process.env['PORTCULLIS_TEST_POSTGRES_URL'] || DEFAULT_URL
  if (!forced && (await answers(url))) return { url }
  const cluster = await startThrowawayCluster()
  return { url: cluster.url, cluster }
}

/** Creates a fresh database `portcullis_test_<random>` and returns its URL and how to drop it. */
export async function withPostgres(): Promise<TestDatabase> {
  server ??= findServer()
  const found = await server
  users++
  const name = `portcullis_test_${Math.random().toString(36).slice(2, 10)}`
  const admin = new pg.Client({ connectionString: found.url })
  await admin.connect()
  try {
    await admin.query(`create database ${name}`)
  } finally {
    await admin.end()
  }
  const url = new URL(found.url)
  url.pathname = `/${name}`
  return {
    url: url.href,
    async drop() {
      const client = new pg.Client({ connectionString: found.url })
      await client.connect()
      try {
        await client.query(`drop database if exists ${name} with (force)`)
      } finally {
        await client.end()
      }
      users--
      if (users === 0 && found.cluster !== undefined) {
        server = undefined
        await found.cluster.stop()
      }
    },
  }
}
