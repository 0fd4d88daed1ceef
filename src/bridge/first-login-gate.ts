/**
 * One login for several bridge processes. MCP hosts start every configured server at once, and
 * often more than one host runs; without coordination each bridge process for one server would
 * open its own browser login. The first request of a process that holds no credentials runs
 * under a lock shared by every process on the credential store: the first one logs in, the
 * others wait, then find the stored tokens and use them. Refreshes are coordinated by the
 * client itself (the credential store's lock), so they need nothing here.
 *
 * @see [MCP Authorization](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization)
 * @module
 */

import { createHash } from 'node:crypto'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { type McpAuthClient, serverKey } from '../client/flow.js'
import { withFileLock } from '../node/client/file-lock.js'

/** Runs `fn` while no other process runs a function under the same lock. */
export type LoginLock = <T>(fn: () => Promise<T>) => Promise<T>

/** Options of {@link fileLoginLock}. */
export interface FileLoginLockOptions {
  /**
   * How long a login may hold the lock before another process takes it over even though the
   * holder is alive. Default 10 minutes: longer than the loopback receiver's 5-minute wait for the
   * browser. A holder that died releases at once.
   */
  staleMs?: number
  /** Give up waiting after this long. Default 15 minutes. */
  timeoutMs?: number
}

/**
 * The cross-process login lock for `serverUrl`: a lock file in `<credentialsDirectory>/locks`
 * (the file credential store's lock directory, mode 0700), named after a hash of the canonical
 * server URL.
 */
export function fileLoginLock(
  credentialsDirectory: string,
  serverUrl: string,
  options: FileLoginLockOptions = {},
): LoginLock {
  const name = createHash('sha256')
    .update(`bridge-login\u0000${serverKey(serverUrl)}`)
    .digest('hex')
  const directory = join(credentialsDirectory, 'locks')
  const path = join(directory, `${name.slice(0, 40)}.lock`)
  const lockOptions = { staleMs: options.staleMs ?? 10 * 60_000, timeoutMs: options.timeoutMs ?? 15 * 60_000 }
  return async (fn) => {
    await mkdir(directory, { recursive: true, mode: 0o700 })
    return withFileLock(path, fn, lockOptions)
  }
}

/**
 * A `fetch` over `auth.fetch` whose requests, until one has gone through, run one at a time
 * and, while no credentials for `serverUrl` are stored, under `lock`. After the first success
 * it is `auth.fetch` itself.
 */
export function gateFirstLogin(auth: McpAuthClient, serverUrl: string, lock: LoginLock): typeof fetch {
  let through = false
  let queue: Promise<unknown> = Promise.resolve()
  return (input, init) => {
    if (through) return auth.fetch(input as string | URL | Request, init)
    const run = queue.then(async () => {
      if (through) return auth.fetch(input as string | URL | Request, init)
      if ((await auth.status(serverUrl)).loggedIn) {
        const response = await auth.fetch(input as string | URL | Request, init)
        through = true
        return response
      }
      const response = await lock(() => auth.fetch(input as string | URL | Request, init))
      through = true
      return response
    })
    queue = run.catch(() => undefined)
    return run
  }
}
