import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'

const script = path.resolve('scripts/check-layering.mjs')
const roots: string[] = []

/** Lays out a throwaway src/ tree and runs the layering check on it. */
function check(files: Record<string, string>) {
  const root = mkdtempSync(path.join(tmpdir(), 'portcullis-layering-'))
  roots.push(root)
  for (const [name, text] of Object.entries(files)) {
    const full = path.join(root, 'src', name)
    mkdirSync(path.dirname(full), { recursive: true })
    writeFileSync(full, text)
  }
  const run = spawnSync(process.execPath, [script, '--root', root, '--json'], { encoding: 'utf8' })
  return {
    status: run.status,
    report: JSON.parse(run.stdout) as { ok: boolean; violations: { where: string; message: string }[] },
  }
}

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true })
})

describe('layering check', () => {
  it('passes on the real tree', () => {
    const run = spawnSync(process.execPath, [script], { encoding: 'utf8' })
    expect(run.stderr).toBe('')
    expect(run.status).toBe(0)
  })

  it('passes a tree that follows the arrows', () => {
    const { status, report } = check({
      'protocol/a.ts': 'export const a = 1\n',
      'client/b.ts': "import { a } from '../protocol/a.js'\nexport const b = a\n",
      'node/c.ts':
        "import { readFileSync } from 'node:fs'\nimport { b } from '../client/b.js'\nexport const c = [b, readFileSync]\n",
    })
    expect(report.violations).toEqual([])
    expect(status).toBe(0)
  })

  it('fails when a portable folder imports a Node built-in', () => {
    const { status, report } = check({
      'protocol/bad.ts': "import { readFileSync } from 'node:fs'\nexport const x = readFileSync\n",
    })
    expect(status).toBe(1)
    expect(report.violations).toEqual([
      {
        where: 'src/protocol/bad.ts:1',
        message: 'portable protocol may not import the Node built-in node:fs',
      },
    ])
  })

  it('fails when a portable folder imports a bare Node built-in or a Node-only package', () => {
    const { status, report } = check({
      'resource-server/bad.ts': "import http from 'http'\nimport pg from 'pg'\nexport const x = [http, pg]\n",
    })
    expect(status).toBe(1)
    expect(report.violations.map((v) => v.message)).toEqual([
      'portable resource-server may not import the Node built-in http',
      'portable resource-server may not import the Node-only package pg',
    ])
  })

  it('fails when a portable folder imports Node-only code of the project', () => {
    const { status, report } = check({
      'node/fetch.ts': 'export const f = 1\n',
      'authorization-server/bad.ts': "export { f } from '../node/fetch.js'\n",
    })
    expect(status).toBe(1)
    expect(report.violations[0]?.message).toBe('authorization-server may not import node (../node/fetch.js)')
  })

  it('fails when the client imports server code', () => {
    const { status, report } = check({
      'resource-server/guard.ts': 'export const g = 1\n',
      'authorization-server/as.ts': 'export const s = 1\n',
      'client/bad.ts':
        "import { g } from '../resource-server/guard.js'\nconst s = await import('../authorization-server/as.js')\nexport const x = [g, s]\n",
    })
    expect(status).toBe(1)
    expect(report.violations.map((v) => v.message)).toEqual([
      'client may not import resource-server (../resource-server/guard.js)',
      'client may not import authorization-server (../authorization-server/as.js)',
    ])
  })

  it('fails when protocol imports a role', () => {
    const { status } = check({
      'client/x.ts': 'export const x = 1\n',
      'protocol/bad.ts': "export * from '../client/x.js'\n",
    })
    expect(status).toBe(1)
  })
})
