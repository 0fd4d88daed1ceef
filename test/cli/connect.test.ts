import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliProcess, runCli, startCli } from './support/run-cli.js'
import { runWithLogin } from './support/with-login.js'

let root: string
let serve: CliProcess
let mcp: string
let username: string
let password: string
let clientFlags: string[]

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'portcullis-connect-'))
  serve = startCli(['serve', '--port', '0', '--data-dir', join(root, 'data')])
  const match = await serve.waitFor(/^mcp: (\S+)\nusername: (\S+)\npassword: (\S+)\n/m)
  ;[, mcp, username, password] = match as unknown as [string, string, string, string]
  clientFlags = ['--no-browser', '--no-keychain', '--credentials-dir', join(root, 'credentials')]
}, 120_000)

afterAll(async () => {
  await serve?.stop()
  rmSync(root, { recursive: true, force: true })
})

/** Runs a client command; when it prints a login URL, logs in there as the demo user. */
function withLogin(args: string[]) {
  return runWithLogin([...args, ...clientFlags], { username, password })
}

describe('serve, then connect as a newcomer would', { timeout: 120_000 }, () => {
  it('logs in through the browser, shows each step, and calls a tool', async () => {
    const result = await withLogin(['connect', mcp, '--call', 'whoami'])
    expect(result.code).toBe(0)
    expect(result.logins).toBe(1)
    expect(JSON.parse(result.stdout)).toMatchObject({ subject: username, scopes: ['notes:read'] })
    expect(result.stderr).toContain('Discovery: protected resource metadata')
    expect(result.stderr).toContain('Registration with')
    expect(result.stderr).toContain('Token from')
  })

  it('reuses the stored credentials on the next run (no login)', async () => {
    const result = await runCli(['connect', mcp, ...clientFlags])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('4 tools:')
    expect(result.stderr).not.toContain('Open this URL')
  })

  it('steps up for a tool that needs more scope', async () => {
    const result = await withLogin(['connect', mcp, '--call', 'add_note', '--args', '{"text":"hello"}'])
    expect(result.code).toBe(0)
    expect(result.logins).toBe(1)
    expect(result.stdout.trim()).toBe('Saved note 1.')
    expect(result.stderr).toContain('More scope needed: ')
  })

  it('--client-metadata-url: the login names that URL as client_id and registers nothing', async () => {
    const cimd = 'https://client.example/portcullis/client.json'
    const child = startCli([
      'connect',
      mcp,
      '--no-browser',
      '--no-keychain',
      '--credentials-dir',
      join(root, 'cimd-credentials'),
      '--client-metadata-url',
      cimd,
    ])
    try {
      // The login URL is not opened: the authorization server would then fetch the document from
      // client.example, and nothing here may leave loopback.
      const [, printed] = await child.waitFor(
        /Open this URL in a browser to log in:\n(\S+)\n/,
        40_000,
        'stderr',
      )
      const authorization = new URL(printed!)
      expect(authorization.origin).toBe(new URL(mcp).origin)
      expect(authorization.searchParams.get('client_id')).toBe(cimd)
      expect(child.stderr()).toContain('Discovery: authorization server metadata')
      expect(child.stderr()).not.toContain('Registration with')
    } finally {
      await child.stop()
    }
  })

  it('refuses a --client-metadata-url that is not an https URL with a path, before contacting anyone', async () => {
    const cases: Array<[string, string]> = [
      ['connect', 'http://client.example/client.json'],
      ['token', 'https://client.example/'],
      ['bridge', 'client.json'],
    ]
    for (const [command, url] of cases) {
      const result = await runCli([
        command,
        'http://127.0.0.1:9/mcp',
        '--client-metadata-url',
        url,
        ...clientFlags,
      ])
      expect(result.code, `${command} ${url}`).toBe(2)
      expect(result.stdout).toBe('')
      expect(result.stderr).toContain(`error: --client-metadata-url must be an https URL with a path`)
      expect(result.stderr).toContain('fix: Pass the https URL where the client')
    }
  })

  it('token prints a usable access token; logout revokes it; token --no-login then fails with the fix', async () => {
    const token = await runCli(['token', mcp, '--no-login', ...clientFlags])
    expect(token.code).toBe(0)
    const accessToken = token.stdout.trim()
    expect(accessToken.split('.')).toHaveLength(3)
    const call = await fetch(mcp, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${accessToken}`,
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    })
    expect(call.status).toBe(200)

    const logout = await runCli(['logout', mcp, ...clientFlags])
    expect(logout.code).toBe(0)
    expect(logout.stdout).toContain('the tokens were revoked')

    const again = await runCli(['token', mcp, '--no-login', ...clientFlags])
    expect(again.code).toBe(1)
    expect(again.stdout).toBe('')
    expect(again.stderr).toContain(`fix: Log in first: portcullis connect ${mcp}`)
  })
})
