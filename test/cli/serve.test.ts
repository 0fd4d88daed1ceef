import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DoctorReport } from '../../src/cli/doctor/finding.js'
import { type CliProcess, runCli, startCli } from './support/run-cli.js'

let dataDir: string
let serve: CliProcess | undefined

beforeEach(() => {
  dataDir = join(mkdtempSync(join(tmpdir(), 'portcullis-serve-')), 'data')
})

afterEach(async () => {
  await serve?.stop('SIGKILL')
  serve = undefined
  rmSync(join(dataDir, '..'), { recursive: true, force: true })
})

async function startServe(
  extra: string[] = [],
): Promise<{ issuer: string; mcp: string; username: string; password: string }> {
  serve = startCli(['serve', '--port', '0', '--data-dir', dataDir, ...extra])
  const [, issuer, mcp, username, password] = await serve.waitFor(
    /^issuer: (\S+)\nmcp: (\S+)\nusername: (\S+)\npassword: (\S+)\n/m,
  )
  return { issuer: issuer!, mcp: mcp!, username: username!, password: password! }
}

const mode = (path: string) => statSync(path).mode & 0o777

describe('portcullis serve', { timeout: 120_000 }, () => {
  it('prints issuer and mcp on their own lines, answers /healthz, passes doctor, and stops on SIGTERM', async () => {
    const { issuer, mcp, username, password } = await startServe()
    expect(issuer).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(mcp).toBe(`${issuer}/mcp`)
    expect(username).toMatch(/^demo-[a-z0-9]+$/)
    expect(password.length).toBeGreaterThanOrEqual(20)

    const health = await fetch(`${issuer}/healthz`)
    expect(health.status).toBe(200)
    expect(await health.json()).toEqual({ status: 'ok', store: { kind: 'sqlite', ok: true } })

    const doctor = await runCli(['doctor', mcp, '--json'])
    const report = JSON.parse(doctor.stdout) as DoctorReport
    expect(report.findings.filter((f) => f.status === 'fail')).toEqual([])
    expect(doctor.code).toBe(0)

    expect(await serve!.stop('SIGTERM')).toBe(0)
    expect(serve!.stderr()).toContain('shutdown signal=SIGTERM')
  })

  it('keeps its secrets private and the demo account across restarts (stored hashed, password printed again)', async () => {
    const first = await startServe()
    await serve!.stop()
    expect(mode(dataDir)).toBe(0o700)
    expect(mode(join(dataDir, 'secrets.json'))).toBe(0o600)
    expect(mode(join(dataDir, 'demo-account.json'))).toBe(0o600)
    expect(mode(join(dataDir, 'portcullis.db'))).toBe(0o600)
    const account = JSON.parse(readFileSync(join(dataDir, 'demo-account.json'), 'utf8')) as Record<
      string,
      string
    >
    expect(account['passwordHash']).toMatch(/^pbkdf2-sha256\$/)
    expect(account['passwordHash']).not.toContain(first.password)

    const second = await startServe()
    expect(second.username).toBe(first.username)
    expect(second.password).toBe(first.password)
  })

  it('keys rotate adds a key that the restarted server publishes', async () => {
    await startServe()
    await serve!.stop()
    const rotate = await runCli(['keys', 'rotate', '--data-dir', dataDir, '--json'])
    expect(rotate.code).toBe(0)
    const { kid } = JSON.parse(rotate.stdout) as { kid: string }
    const list = await runCli(['keys', 'list', '--data-dir', dataDir, '--json'])
    const keys = JSON.parse(list.stdout) as Array<{ kid: string; status: string }>
    expect(keys.map((k) => k.status).sort()).toEqual(['pending', 'retired'])
    expect(list.stdout).not.toContain('"d"')

    const restarted = await startServe()
    const metadata = (await (
      await fetch(`${restarted.issuer}/.well-known/oauth-authorization-server`)
    ).json()) as { jwks_uri: string }
    const jwks = (await (await fetch(metadata.jwks_uri)).json()) as { keys: Array<{ kid: string }> }
    expect(jwks.keys.map((k) => k.kid)).toContain(kid)
    expect(jwks.keys).toHaveLength(2)
  })

  it('writes JSON logs with --log-format json', async () => {
    await startServe(['--log-format', 'json'])
    await serve!.stop()
    const events = serve!
      .stderr()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; level: string })
    expect(events.map((e) => e.event)).toEqual(expect.arrayContaining(['listening', 'shutdown']))
  })

  it('explains what is wrong, with the fix: --upstream without the proxy, a wildcard host without --issuer, a bad flag', async () => {
    const upstream = await runCli(['serve', '--data-dir', dataDir, '--upstream', 'github'])
    expect(upstream.code).toBe(1)
    expect(upstream.stderr).toContain('--upstream (proxy mode) is not available')
    expect(upstream.stderr).toContain('fix:')

    const wildcard = await runCli(['serve', '--data-dir', dataDir, '--host', '0.0.0.0'])
    expect(wildcard.code).toBe(2)
    expect(wildcard.stderr).toContain('fix: Pass --issuer')

    const port = await runCli(['serve', '--data-dir', dataDir, '--port', 'eighty'])
    expect(port.code).toBe(2)
    expect(port.stderr).toContain('--port')
  })

  it('has --help with examples', async () => {
    const { code, stdout } = await runCli(['serve', '--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('$ portcullis serve')
    expect(stdout).toContain('/healthz')
  })
})
