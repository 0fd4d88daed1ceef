/**
 * Starts the replica set used by the load, race, fault and fuzz runs: authorization-server child
 * processes sharing one store (Postgres, or SQLite for a single replica) and one resource-server
 * child process (the demo MCP server). There is no load balancer process: the callers spread their
 * requests over `authorizationServers` themselves, and the resource server fetches the issuer's
 * metadata and keys from whichever authorization server answers.
 *
 * With several authorization servers the issuer is a loopback URL no process listens on, the
 * address a load balancer would have; with one it is that server's own URL.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { randomToken } from '../../src/protocol/random.js'
import type {
  AuthorizationServerReplicaConfig,
  ReplicaConfig,
  ResourceServerReplicaConfig,
} from './replica-process.js'

const ENTRY = fileURLToPath(new URL('./replica-process.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))
const START_TIMEOUT_MS = 90_000

/** Options of {@link startReplicas}. */
export interface ReplicaSetOptions {
  store: AuthorizationServerReplicaConfig['store']
  /** Number of authorization-server processes. Default 2. */
  authorizationServers?: number
  /** PBKDF2 iterations of the local account. Default 1000: the load measures the server, not PBKDF2. */
  iterations?: number
  /** Grace window of refresh-token rotation. Default 10 000 ms (the store's default). */
  refreshGraceMs?: number
  /** Key-encryption key shared by the replicas. Default: a fresh random one. */
  encryptionKey?: string
}

/** A running replica set. */
export interface ReplicaSet {
  issuer: string
  /** The MCP endpoint (`/mcp` of the resource server): the tokens' audience. */
  resource: string
  /** Base URLs of the authorization-server processes, by index. */
  authorizationServers: string[]
  /** Base URL of the resource-server process. */
  resourceServer: string
  username: string
  password: string
  encryptionKey: string
  /** Exits nobody asked for, with the end of the process's stderr. */
  crashes: { name: string; code: number | null; signal: NodeJS.Signals | null; stderr: string }[]
  /** Whether authorization server `index` is running. */
  alive(index: number): boolean
  /** Sends `signal` (default SIGKILL) to authorization server `index` and waits for its exit. */
  kill(index: number, signal?: NodeJS.Signals): Promise<void>
  /** Starts authorization server `index` again on the same port. */
  restart(index: number): Promise<void>
  /** Heap used after a full GC: authorization server `index`, or the resource server (`'rs'`). */
  heap(which: number | 'rs'): Promise<number>
  /** The last 4000 characters a process wrote to stderr (the servers' own error lines). */
  stderr(which: number | 'rs'): string
  /** Stops every process. */
  stop(): Promise<void>
}

interface Running {
  name: string
  config: ReplicaConfig
  child: ChildProcess
  stopping: boolean
  exited: Promise<void>
  stderr: string
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject()))
    })
  })
}

/** Starts the authorization servers, then the resource server; see {@link ReplicaSet}. */
export async function startReplicas(options: ReplicaSetOptions): Promise<ReplicaSet> {
  const count = options.authorizationServers ?? 2
  if (options.store.kind === 'sqlite' && count !== 1) throw new Error('SQLite serves one replica only')
  const asPorts = await Promise.all(Array.from({ length: count }, () => freePort()))
  const rsPort = await freePort()
  const issuer = count === 1 ? `http://127.0.0.1:${asPorts[0]}` : `http://127.0.0.1:${await freePort()}`
  const resource = `http://127.0.0.1:${rsPort}/mcp`
  const encryptionKey = options.encryptionKey ?? randomToken(32)
  const shared = {
    issuer,
    resource,
    store: options.store,
    encryptionKey,
    cookieSecret: randomToken(32),
    username: 'load',
    password: randomToken(12),
    iterations: options.iterations ?? 1000,
    refreshGraceMs: options.refreshGraceMs ?? 10_000,
  }
  const asConfigs: AuthorizationServerReplicaConfig[] = asPorts.map((port) => ({
    role: 'as',
    port,
    ...shared,
  }))
  const authorizationServers = asPorts.map((port) => `http://127.0.0.1:${port}`)
  const rsConfig: ResourceServerReplicaConfig = {
    role: 'rs',
    port: rsPort,
    issuer,
    resource,
    authorizationServers,
  }
  const crashes: ReplicaSet['crashes'] = []
  const heapWaiters = new Map<ChildProcess, ((heap: number) => void)[]>()

  async function launch(name: string, config: ReplicaConfig): Promise<Running> {
    const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', ENTRY], {
      cwd: ROOT,
      env: { ...process.env, PORTCULLIS_REPLICA: JSON.stringify(config) },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
    const running: Running = { name, config, child, stopping: false, exited: Promise.resolve(), stderr: '' }
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      running.stderr = (running.stderr + chunk).slice(-4000)
    })
    child.on('message', (message: { heap?: number }) => {
      if (typeof message.heap === 'number') heapWaiters.get(child)?.shift()?.(message.heap)
    })
    running.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (!running.stopping) crashes.push({ name, code, signal, stderr: running.stderr })
        resolve()
      })
    })
    await new Promise<void>((resolve, reject) => {
      let out = ''
      const timer = setTimeout(
        () => reject(new Error(`${name} did not start: ${running.stderr}`)),
        START_TIMEOUT_MS,
      )
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        out += chunk
        if (out.includes('ready ')) {
          clearTimeout(timer)
          resolve()
        }
      })
      child.once('exit', () => {
        clearTimeout(timer)
        reject(new Error(`${name} exited before listening: ${running.stderr}`))
      })
    })
    return running
  }

  const asProcesses: Running[] = []
  const started: Running[] = []
  try {
    // One at a time: the first migrates the schema and creates the signing key the others find.
    for (const [index, config] of asConfigs.entries()) {
      const running = await launch(`as${index}`, config)
      asProcesses.push(running)
      started.push(running)
    }
    started.push(await launch('rs', rsConfig))
  } catch (error) {
    for (const r of started) {
      r.stopping = true
      r.child.kill('SIGKILL')
    }
    throw error
  }
  const rs = started.at(-1)!

  async function stopProcess(r: Running, signal: NodeJS.Signals): Promise<void> {
    r.stopping = true
    if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill(signal)
    await r.exited
  }

  return {
    issuer,
    resource,
    authorizationServers,
    resourceServer: `http://127.0.0.1:${rsPort}`,
    username: shared.username,
    password: shared.password,
    encryptionKey,
    crashes,
    alive: (index) => {
      const r = asProcesses[index]!
      return r.child.exitCode === null && r.child.signalCode === null
    },
    kill: (index, signal = 'SIGKILL') => stopProcess(asProcesses[index]!, signal),
    async restart(index) {
      const old = asProcesses[index]!
      await stopProcess(old, 'SIGKILL')
      asProcesses[index] = await launch(old.name, old.config)
    },
    heap(which) {
      const r = which === 'rs' ? rs : asProcesses[which]!
      return new Promise((resolve) => {
        const list = heapWaiters.get(r.child) ?? []
        list.push(resolve)
        heapWaiters.set(r.child, list)
        r.child.send('heap')
      })
    },
    stderr: (which) => (which === 'rs' ? rs : asProcesses[which]!).stderr,
    async stop() {
      await Promise.all([...asProcesses, rs].map((r) => stopProcess(r, 'SIGTERM')))
    },
  }
}
