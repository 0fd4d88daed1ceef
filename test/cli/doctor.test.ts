import { spawn } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import type { DoctorReport, Finding } from '../../src/cli/doctor/finding.js'
import { type Breakage, type FakeDeployment, startFakeDeployment } from './support/fake-deployment.js'
import { REPO_ROOT, runCli } from './support/run-cli.js'

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
    expect(stdout).toContain('$ portcullis doctor https://mcp.example.com/mcp')
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
