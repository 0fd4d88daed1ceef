/**
 * An exclusive lock between processes on one machine, held as a lock file.
 *
 * @module
 */

import { open, readFile, unlink } from 'node:fs/promises'
import { ClientError } from '../../client/errors.js'

/** Options of {@link withFileLock}. */
export interface FileLockOptions {
  /** A lock older than this is taken over even if its holder looks alive. Default 30 s. */
  staleMs?: number
  /** Give up waiting after this long. Default 60 s. */
  timeoutMs?: number
}

function alive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT'
  }
  const [pidText, sinceText] = text.split('\n')
  const pid = Number(pidText)
  const since = Number(sinceText)
  // A lock file being written has no content yet: give its writer a moment.
  if (text === '') return false
  return !alive(pid) || !Number.isFinite(since) || Date.now() - since > staleMs
}

/**
 * Runs `fn` while holding the lock file `path`. The file is created with `O_EXCL` (mode 0600)
 * and holds the owner's pid and start time; a lock whose owner is gone, or that is older than
 * `staleMs`, is removed. Waiting backs off from 10 ms to 250 ms.
 *
 * @throws {ClientError} `ERR_REFRESH_FAILED` when the lock cannot be had within `timeoutMs`
 */
export async function withFileLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const staleMs = options.staleMs ?? 30_000
  const deadline = Date.now() + (options.timeoutMs ?? 60_000)
  let delay = 10
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try {
        await handle.writeFile(`${process.pid}\n${Date.now()}\n`)
      } finally {
        await handle.close()
      }
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    if (await isStale(path, staleMs)) {
      await unlink(path).catch(() => {})
      continue
    }
    if (Date.now() > deadline) {
      throw new ClientError(
        'ERR_REFRESH_FAILED',
        'timed out waiting for another process holding the credential lock',
      )
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 250)
  }
  try {
    return await fn()
  } finally {
    await unlink(path).catch(() => {})
  }
}
