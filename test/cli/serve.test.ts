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
    // CORS on the metadata, preflight included, passes: plain http on loopback is the only warning.
    expect(report.findings.filter((f) => f.status === 'warn').map((f) => f.id)).toEqual(['https'])
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

  it('explains what is wrong, with the fix: --upstream without credentials or with a bad issuer, a wildcard host without --issuer, a bad flag', async () => {
    const upstream = await runCli(['serve', '--data-dir', dataDir, '--upstream', 'github'])
    expect(upstream.code).toBe(1)
    expect(upstream.stderr).toContain('--upstream needs the client credentials')
    expect(upstream.stderr).toContain(
      'fix: Set PORTCULLIS_UPSTREAM_CLIENT_ID and PORTCULLIS_UPSTREAM_CLIENT_SECRET',
    )

    const credentials = { PORTCULLIS_UPSTREAM_CLIENT_ID: 'id', PORTCULLIS_UPSTREAM_CLIENT_SECRET: 'secret' }
    const plainHttp = await runCli(['serve', '--data-dir', dataDir, '--upstream', 'http://idp.example'], {
      env: credentials,
    })
    expect(plainHttp.code).toBe(2)
    expect(plainHttp.stderr).toContain('--upstream issuer must be an https URL')

    const wildcard = await runCli(['serve', '--data-dir', dataDir, '--host', '0.0.0.0'])
    expect(wildcard.code).toBe(2)
    expect(wildcard.stderr).toContain('fix: Pass --issuer')

    const port = await runCli(['serve', '--data-dir', dataDir, '--port', 'eighty'])
    expect(port.code).toBe(2)
    expect(port.stderr).toContain('--port')
  })

  it('runs the proxy in front of a preset provider with --upstream, consent first and no upstream secret given out', async () => {
    const upstreamSecret = 'upstream-secret-that-must-stay-on-the-server'
    serve = startCli(['serve', '--port', '0', '--data-dir', dataDir, '--upstream', 'github'], {
      env: {
        PORTCULLIS_UPSTREAM_CLIENT_ID: 'github-app-id',
        PORTCULLIS_UPSTREAM_CLIENT_SECRET: upstreamSecret,
      },
    })
    const [, issuer, mcp, name, callback] = await serve.waitFor(
      /^issuer: (\S+)\nmcp: (\S+)\nupstream: (\S+)\ncallback: (\S+)\n/m,
    )
    expect(name).toBe('GitHub')
    expect(callback!.startsWith(`${issuer}/`)).toBe(true)
    expect(serve.stdout()).not.toContain('password:')

    const metadata = (await (await fetch(`${issuer}/.well-known/oauth-authorization-server`)).json()) as {
      registration_endpoint: string
      authorization_endpoint: string
    }
    const registration = await fetch(metadata.registration_endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Proxy test client',
        redirect_uris: ['http://127.0.0.1:9/callback'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        token_endpoint_auth_method: 'none',
        application_type: 'native',
      }),
    })
    expect(registration.status).toBe(201)
    const registered = await registration.text()
    expect(registered).not.toContain(upstreamSecret)
    expect(registered).not.toContain('github-app-id')
    const { client_id } = JSON.parse(registered) as { client_id: string }

    const authorize = new URL(metadata.authorization_endpoint)
    for (const [key, value] of Object.entries({
      response_type: 'code',
      client_id,
      redirect_uri: 'http://127.0.0.1:9/callback',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
      state: 'state-1',
      resource: mcp!,
      scope: 'notes:read',
    })) {
      authorize.searchParams.set(key, value)
    }
    // S13: our consent page comes first; nothing is sent to the provider before Approve.
    const consent = await fetch(authorize, { redirect: 'manual' })
    expect(consent.status).toBe(200)
    const html = await consent.text()
    expect(html).toContain('Proxy test client')
    expect(html).toContain('GitHub')
    expect(html).not.toContain(upstreamSecret)
  })

  it('has --help with examples', async () => {
    const { code, stdout } = await runCli(['serve', '--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('$ portcullis serve')
    expect(stdout).toContain('/healthz')
  })
})
