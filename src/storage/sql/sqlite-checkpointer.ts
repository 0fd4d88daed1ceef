/**
 * WAL checkpoints on a worker thread. A checkpoint copies committed pages from the WAL file into
 * the database file and, with `synchronous=NORMAL` or `FULL`, fsyncs both; run from a commit (SQLite's
 * automatic checkpoint) it stalls the event loop for the copy and the fsyncs. Here a second
 * connection on a worker thread runs `PRAGMA wal_checkpoint(PASSIVE)` every `intervalMs`, alongside
 * the writers (WAL mode lets a checkpoint run while others read and write), so the main connection
 * only finishes what is left when its own, much higher, automatic threshold is reached.
 *
 * Durability is unchanged: a transaction is durable once its `COMMIT` has written it to the WAL;
 * the checkpoint connection uses the same `synchronous` level, so it syncs the WAL before copying
 * and the database after, exactly as an automatic checkpoint would.
 *
 * @see [SQLite WAL: checkpointing](https://www.sqlite.org/wal.html#ckpt)
 * @see [PRAGMA wal_checkpoint](https://www.sqlite.org/pragma.html#pragma_wal_checkpoint)
 * @module
 */

import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'

/** How often the worker checkpoints, in milliseconds. */
export const CHECKPOINT_INTERVAL_MS = 100

/**
 * The main connection's automatic checkpoint threshold (pages) while a worker checkpoints: a
 * backstop that also lets the WAL restart, since a checkpoint running beside busy writers rarely
 * catches up with the last frame.
 */
export const BACKSTOP_AUTOCHECKPOINT_PAGES = 10_000

// CommonJS, evaluated in the worker: opens the file and checkpoints until told to stop.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads')
const Database = require(workerData.driver)
const db = new Database(workerData.filename, { fileMustExist: true, timeout: workerData.busyTimeoutMs })
db.pragma('synchronous = ' + workerData.synchronous)
const checkpoint = () => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)')
  } catch {
    // Busy or failing: the main connection's automatic checkpoint remains the backstop.
  }
}
const timer = setInterval(checkpoint, workerData.intervalMs)
parentPort.on('message', () => {
  clearInterval(timer)
  checkpoint()
  db.close()
  parentPort.close()
})
`

/** A running checkpoint worker. */
export interface Checkpointer {
  /** Runs a last checkpoint and stops the worker. */
  stop(): Promise<void>
}

/** Starts the worker for `filename` (an existing WAL-mode database file). */
export function startCheckpointer(options: {
  filename: string
  synchronous: 'NORMAL' | 'FULL'
  busyTimeoutMs: number
  intervalMs?: number
  /** Called when the worker fails (it then no longer checkpoints). */
  onError?: () => void
}): Checkpointer {
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: {
      driver: createRequire(import.meta.url).resolve('better-sqlite3'),
      filename: options.filename,
      synchronous: options.synchronous,
      busyTimeoutMs: options.busyTimeoutMs,
      intervalMs: options.intervalMs ?? CHECKPOINT_INTERVAL_MS,
    },
  })
  // The worker never keeps the process alive, and its failure is not the store's.
  worker.unref()
  worker.on('error', () => options.onError?.())
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()))
  return {
    async stop() {
      worker.postMessage('stop')
      const timeout = setTimeout(() => void worker.terminate(), 5000)
      await exited
      clearTimeout(timeout)
    },
  }
}
