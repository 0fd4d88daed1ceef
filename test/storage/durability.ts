/**
 * Durability check shared by the SQLite and Postgres tests: two writer processes share one
 * database (starting together, so they also race the start-up migration), both are killed with
 * SIGKILL mid-loop, and every write either printed as committed must be found afterwards.
 */

import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { expect } from 'vitest'
import type { Store } from '../../src/storage/types.js'

const WRITER = fileURLToPath(new URL('./fixtures/durable-writer.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

interface Writer {
  child: ChildProcess
  lines: string[]
  exited: Promise<NodeJS.Signals | null>
}

function startWriter(kind: string, target: string, name: string, key: string): Writer {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, kind, target, name, key], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const lines: string[] = []
  let partial = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n')
    partial = parts.pop() ?? ''
    lines.push(...parts)
  })
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const exited = new Promise<NodeJS.Signals | null>((resolve, reject) => {
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(signal)
      else reject(new Error(`writer ${name} exited with ${code}: ${stderr.slice(0, 2000)}`))
    })
  })
  return { child, lines, exited }
}

async function until(check: () => boolean, failure: Promise<unknown>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting for the writers')
    await Promise.race([new Promise((r) => setTimeout(r, 20)), failure])
  }
}

function committed(w: Writer): { id: string; count: number }[] {
  return w.lines
    .filter((l) => l !== 'ready')
    .map((l) => {
      const [id, count] = l.split(' ')
      return { id: id!, count: Number(count) }
    })
}

/** Runs two writers, kills them mid-loop, and checks every committed write with `open()`. */
export async function killWritersAndCheck(
  kind: 'sqlite' | 'postgres',
  target: string,
  key: string,
  open: () => Promise<Store>,
): Promise<void> {
  const a = startWriter(kind, target, 'a', key)
  const b = startWriter(kind, target, 'b', key)
  const failure = Promise.all([a.exited, b.exited])
  try {
    await until(() => a.lines.length > 60 && b.lines.length > 60, failure)
    a.child.kill('SIGKILL')
    await a.exited
    const seen = b.lines.length
    await until(() => b.lines.length > seen + 40, failure)
    b.child.kill('SIGKILL')
    await b.exited
  } finally {
    a.child.kill('SIGKILL')
    b.child.kill('SIGKILL')
  }

  const writes = [...committed(a), ...committed(b)]
  expect(writes.length).toBeGreaterThan(150)
  const store = await open()
  try {
    const missing: string[] = []
    for (const { id } of writes) {
      if ((await store.grants.get(id, 0)) === undefined) missing.push(id)
    }
    expect(missing).toEqual([])
    // The shared counter: every printed count is distinct (atomic across processes), and the stored
    // count covers them all (each writer may have committed one hit it did not live to print).
    const counts = writes.map((w) => w.count)
    expect(new Set(counts).size).toBe(counts.length)
    const stored = (await store.rateLimits.hit('shared', 3_600_000, 0)).count - 1
    expect(stored).toBeGreaterThanOrEqual(Math.max(...counts))
    expect(stored).toBeLessThanOrEqual(counts.length + 2)
  } finally {
    await store.close()
  }
}
