import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { DoctorReport, Finding } from '../../src/cli/doctor/finding.js'
import { type Breakage, type FakeDeployment, startFakeDeployment } from './support/fake-deployment.js'
import { type CliProcess, REPO_ROOT, runCli, startCli } from './support/run-cli.js'
import { runWithLogin } from './support/with-login.js'

let deployment: FakeDeployment | undefined

afterEach(async () => {
  await deployment?.close()
  deployment = undefined
})

async function doctorJson(breakage: Breakage): Promise<{ code: number | null; report: DoctorReport }> {
  deployment = await startFakeDeployment(breakage)
  const { code, stdout, stderr } = await runCli(['doctor', deployment.mcpUrl, '--json'])
  expect(stderr).toBe('')
  return { code, report: JSON.parse(stdout) as DoctorReport }
}

function byId(report: DoctorReport, id: string): Finding[] {
  return report.findings.filter((finding) => finding.id === id)
}

function statusOf(report: DoctorReport, id: string): string[] {
  return byId(report, id).map((finding) => finding.status)
}

function failing(report: DoctorReport): string[] {
  return report.findings.filter((f) => f.status === 'fail').map((f) => f.id)
}

describe('portcullis doctor against a correct deployment', { timeout: 120_000 }, () => {
  it('passes every check; plain http on loopback is the only warning; exit code 0', async () => {
    const { code, report } = await doctorJson({})
    expect(code).toBe(0)
    expect(report.ok).toBe(true)
    expect(report.summary.fail).toBe(0)
    expect(report.findings.filter((f) => f.status === 'warn').map((f) => f.id)).toEqual(['https'])
    expect(report.findings.map((f) => f.id)).toEqual([
      'mcp.unauthenticated',
      'challenge.bearer',
      'challenge.scope',
      'challenge.resource-metadata',
      'prm.header-url',
      'prm.well-known',
      'prm.document',
      'prm.resource',
      'prm.authorization-servers',
      'as.metadata',
      'as.issuer',
      'as.document',
      'as.pkce',
      'as.cimd',
      'as.dcr',
      'as.iss',
      'https',
      'cors',
      'cors',
      'prm.offline-access',
    ])
    for (const finding of report.findings) expect(finding.spec.length).toBeGreaterThan(0)
    expect(byId(report, 'prm.resource')[0]!.spec.map((s) => s.label)).toContain('RFC 9728 §3.3')
  })

  it('prints text: each check with its status, the spec section and, for problems, the fix', async () => {
    deployment = await startFakeDeployment({ noIss: true })
    const { code, stdout } = await runCli(['doctor', deployment.mcpUrl])
    expect(code).toBe(0)
    expect(stdout).toContain('✔ pass  A request without a token gets 401')
    expect(stdout).toContain('▲ warn  Authorization responses carry iss (RFC 9207)')
    expect(stdout).toContain('fix: Add iss=<issuer> to every authorization response')
    expect(stdout).toContain('RFC 9728 §3.3')
    expect(stdout).toMatch(/\d+ passed, 2 warnings, 0 failed\n$/)
  })
})

describe('portcullis doctor exits with 1 on a failure (the full matrix is in doctor/run-doctor.test.ts)', {
  timeout: 120_000,
}, () => {
  const cases: Array<[string, Breakage, string[]]> = [
    ['no WWW-Authenticate on the 401', { challenge: 'absent' }, ['challenge.bearer']],
    [
      'a PRM naming another resource',
      { prmResource: () => 'https://evil.example.com/mcp' },
      ['prm.resource'],
    ],
    ['an AS whose issuer differs by a trailing slash', { issuer: (issuer) => `${issuer}/` }, ['as.issuer']],
    ['an AS without S256', { pkce: ['plain'] }, ['as.pkce']],
    ['no CORS on the metadata', { noCors: true }, ['cors', 'cors']],
  ]
  it.each(cases)('%s', async (_name, breakage, expected) => {
    const { code, report } = await doctorJson(breakage)
    expect(code).toBe(1)
    expect(report.ok).toBe(false)
    expect(failing(report)).toEqual(expected)
  })

  it('no PRM at all', async () => {
    const { code, report } = await doctorJson({ noPrm: true })
    expect(code).toBe(1)
    expect(failing(report)).toEqual(['prm.header-url', 'prm.well-known', 'prm.found'])
  })
})

describe('portcullis doctor usage', { timeout: 120_000 }, () => {
  it('refuses a URL that is not http(s) with exit code 2 and the fix', async () => {
    const { code, stderr, stdout } = await runCli(['doctor', 'file:///etc/passwd'])
    expect(code).toBe(2)
    expect(stdout).toBe('')
    expect(stderr).toContain('is not an http(s) URL')
    expect(stderr).toContain('fix: Pass the full URL of the MCP endpoint')
  })

  it('has --help with examples', async () => {
    const { code, stdout } = await runCli(['doctor', '--help'])
    expect(code).toBe(0)
    expect(stdout).toContain('Usage: portcullis doctor [options] <mcp-url>')
    expect(stdout).toContain('--allow-http-loopback')
    expect(stdout).toContain('--login')
    expect(stdout).toContain('--client-metadata-url <url>')
    expect(stdout).toContain('$ portcullis doctor https://mcp.example.com/mcp')
    expect(stdout).toContain('$ portcullis doctor http://127.0.0.1:8787/mcp --login')
  })

  it('with --no-allow-http-loopback does not contact a loopback server', async () => {
    deployment = await startFakeDeployment({})
    const { code, stdout } = await runCli(['doctor', deployment.mcpUrl, '--json', '--no-allow-http-loopback'])
    expect(code).toBe(1)
    const report = JSON.parse(stdout) as DoctorReport
    expect(byId(report, 'mcp.unauthenticated')[0]!.message).toContain('ERR_SCHEME_NOT_ALLOWED')
    expect(deployment.requests).toEqual([])
  })

  it('prints server-chosen text without terminal control characters', async () => {
    deployment = await startFakeDeployment({
      issuer: () => 'https://evil.example/\u001b[2J\u001b]0;pwned\u0007',
    })
    const { code, stdout } = await runCli(['doctor', deployment.mcpUrl])
    expect(code).toBe(1)
    expect(stdout).toContain('names issuer https://evil.example/?[2J?]0;pwned?')
    const controls = [...stdout].filter(
      (c) => c !== '\n' && (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f),
    )
    expect(controls).toEqual([])
  })
})

describe('portcullis doctor --login against portcullis serve', { timeout: 180_000 }, () => {
  let root: string
  let serve: CliProcess
  let mcp: string
  let account: { username: string; password: string }
  let credentialsDir: string

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'portcullis-doctor-login-'))
    serve = startCli(['serve', '--port', '0', '--data-dir', join(root, 'data')])
    const [, url, username, password] = await serve.waitFor(
      /^mcp: (\S+)\nusername: (\S+)\npassword: (\S+)\n/m,
    )
    mcp = url!
    account = { username: username!, password: password! }
    credentialsDir = join(root, 'credentials')
  }, 120_000)

  afterAll(async () => {
    await serve?.stop()
    rmSync(root, { recursive: true, force: true })
  })

  /** doctor --login, the login URL printed (not opened) and completed as the demo user. */
  function doctorLogin(extra: string[], decision: 'approve' | 'deny' = 'approve') {
    return runWithLogin(['doctor', mcp, '--login', '--no-browser', ...extra], account, {
      decision,
      env: { PORTCULLIS_CREDENTIALS_DIR: credentialsDir },
    })
  }

  it('passes every check, the login ones too, and --json carries them; nothing is stored', async () => {
    const result = await doctorLogin(['--json'])
    expect(result.code).toBe(0)
    expect(result.logins).toBe(1)
    const report = JSON.parse(result.stdout) as DoctorReport
    expect(failing(report)).toEqual([])
    // The metadata's CORS preflight allows MCP-Protocol-Version: plain http is the only warning.
    expect(report.findings.filter((f) => f.status === 'warn').map((f) => f.id)).toEqual(['https'])
    expect(report.findings.slice(-4).map((f) => [f.id, f.status])).toEqual([
      ['login.flow', 'pass'],
      ['login.initialize', 'pass'],
      ['login.tools-list', 'pass'],
      ['login.audience', 'pass'],
    ])
    const flow = byId(report, 'login.flow')[0]!
    expect(flow.message).toContain('Dynamic Client Registration')
    expect(flow.message).toContain('scope notes:read')
    expect(flow.message).toContain('state and iss (RFC 9207) were checked')
    expect(byId(report, 'login.initialize')[0]!.message).toContain('the server answered as')
    expect(byId(report, 'login.tools-list')[0]!.message).toMatch(/^4 tools: /)
    expect(byId(report, 'login.audience')[0]!.message).toContain(`aud is ${mcp}`)
    for (const id of ['login.flow', 'login.audience'])
      expect(byId(report, id)[0]!.spec.length).toBeGreaterThan(0)
    // The credentials lived in memory: no credential directory, and no token printed.
    expect(existsSync(credentialsDir)).toBe(false)
    expect(result.stdout).not.toMatch(/eyJ[\w-]+\.eyJ/)
    expect(result.stderr).not.toMatch(/eyJ[\w-]+\.eyJ/)
  })

  it('prints the login checks as text', async () => {
    const result = await doctorLogin([])
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('✔ pass  A user can log in (authorization code flow with PKCE)')
    expect(result.stdout).toContain('✔ pass  An MCP tools/list with the token is accepted')
    expect(result.stdout).toContain('✔ pass  The token is issued for this MCP server (audience)')
    expect(result.stdout).toMatch(/\d+ passed, 1 warning, 0 failed\n$/)
  })

  it('a declined consent fails the login check, skips the rest, and exits with 1', async () => {
    const result = await doctorLogin(['--json'], 'deny')
    expect(result.code).toBe(1)
    const report = JSON.parse(result.stdout) as DoctorReport
    expect(failing(report)).toEqual(['login.flow'])
    const flow = byId(report, 'login.flow')[0]!
    expect(flow.message).toContain('ERR_AUTHORIZATION_DENIED')
    expect(flow.fix).toContain('approve')
    expect(statusOf(report, 'login.initialize')).toEqual(['skip'])
    expect(statusOf(report, 'login.tools-list')).toEqual(['skip'])
    expect(statusOf(report, 'login.audience')).toEqual(['skip'])
  })

  it('refuses --no-browser or --client-metadata-url without --login, and a bad --client-metadata-url', async () => {
    const without = await runCli(['doctor', mcp, '--no-browser'])
    expect(without.code).toBe(2)
    expect(without.stderr).toContain('fix: Add --login')
    const bad = await runCli(['doctor', mcp, '--login', '--client-metadata-url', 'https://app.example.com'])
    expect(bad.code).toBe(2)
    expect(bad.stdout).toBe('')
    expect(bad.stderr).toContain('--client-metadata-url must be an https URL with a path')
    expect(bad.stderr).toContain('fix: Pass the https URL where the client')
  })
})

/** Starts a conformance-suite scenario in interactive mode and returns its MCP URL. */
async function startConformanceMock(scenario: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      './test/conformance/node20-register.mjs',
      'node_modules/@modelcontextprotocol/conformance/dist/index.js',
      'client',
      '--scenario',
      scenario,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  )
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  const url = await new Promise<string>((resolve, reject) => {
    let out = ''
    const timer = setTimeout(() => reject(new Error(`no Server URL from ${scenario}: ${out}`)), 20_000)
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
      const match = /Server URL: (http:\/\/\S+)/.exec(out)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    })
    child.stderr.resume()
    child.once('exit', () => reject(new Error(`conformance exited early: ${out}`)))
  })
  return {
    url,
    stop: async () => {
      child.kill('SIGTERM')
      await exited
    },
  }
}

describe('portcullis doctor against the conformance suite’s mock servers', { timeout: 120_000 }, () => {
  it('auth/metadata-default: discovery, issuer, PKCE and iss pass; the mocks send no CORS headers', async () => {
    const mock = await startConformanceMock('auth/metadata-default')
    try {
      const { code, stdout } = await runCli(['doctor', mock.url, '--json'])
      const report = JSON.parse(stdout) as DoctorReport
      for (const id of [
        'mcp.unauthenticated',
        'challenge.bearer',
        'challenge.resource-metadata',
        'prm.header-url',
        'prm.well-known',
        'prm.resource',
        'prm.authorization-servers',
        'as.metadata',
        'as.issuer',
        'as.document',
        'as.pkce',
        'as.iss',
      ]) {
        expect(statusOf(report, id), id).toEqual(['pass'])
      }
      expect(statusOf(report, 'challenge.scope')).toEqual(['warn'])
      expect(failing(report)).toEqual(['cors', 'cors'])
      expect(code).toBe(1)
    } finally {
      await mock.stop()
    }
  })

  it('auth/iss-not-advertised: a missing iss flag is a warning, not a failure', async () => {
    const mock = await startConformanceMock('auth/iss-not-advertised')
    try {
      const { stdout } = await runCli(['doctor', mock.url, '--json'])
      const report = JSON.parse(stdout) as DoctorReport
      expect(statusOf(report, 'as.iss')).toEqual(['warn'])
      expect(failing(report)).toEqual(['cors', 'cors'])
    } finally {
      await mock.stop()
    }
  })

  it('auth/metadata-var1: no resource_metadata in the challenge, PRM found by well-known probing', async () => {
    const mock = await startConformanceMock('auth/metadata-var1')
    try {
      const { stdout } = await runCli(['doctor', mock.url, '--json'])
      const report = JSON.parse(stdout) as DoctorReport
      expect(statusOf(report, 'challenge.resource-metadata')).toEqual(['warn'])
      expect(statusOf(report, 'as.metadata')).toEqual(['pass'])
      expect(statusOf(report, 'as.issuer')).toEqual(['pass'])
    } finally {
      await mock.stop()
    }
  })
})
