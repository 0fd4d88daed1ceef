import type { Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import type { DoctorOptions } from '../../../src/cli/doctor/context.js'
import { type DoctorReport, type Finding, printable } from '../../../src/cli/doctor/finding.js'
import { runDoctor } from '../../../src/cli/doctor/run-doctor.js'
import { CliError } from '../../../src/cli/errors.js'
import { type ConnectTarget, createSafeFetch, systemConnector } from '../../../src/node/safe-fetch/index.js'
import { type Breakage, type FakeDeployment, startFakeDeployment } from '../support/fake-deployment.js'

let deployment: FakeDeployment | undefined
let connected: ConnectTarget[] = []

afterEach(async () => {
  await deployment?.close()
  deployment = undefined
  connected = []
})

/** The command's fetch, with every connection recorded. */
function recordingFetch(): DoctorOptions['fetch'] {
  return createSafeFetch({
    allowLoopback: true,
    maxRedirects: 0,
    connect: (target): Socket => {
      connected.push(target)
      return systemConnector(target)
    },
  })
}

async function doctor(breakage: Breakage): Promise<DoctorReport> {
  deployment = await startFakeDeployment(breakage)
  return runDoctor({ mcpUrl: deployment.mcpUrl, fetch: recordingFetch(), allowHttpLoopback: true })
}

const byId = (report: DoctorReport, id: string): Finding[] => report.findings.filter((f) => f.id === id)
const statusOf = (report: DoctorReport, id: string) => byId(report, id).map((f) => f.status)
const failing = (report: DoctorReport) => report.findings.filter((f) => f.status === 'fail').map((f) => f.id)

describe('runDoctor: each breakage is the right failure', () => {
  const cases: Array<[string, Breakage, string[]]> = [
    ['no WWW-Authenticate on the 401', { challenge: 'absent' }, ['challenge.bearer']],
    [
      'a challenge that does not parse',
      { challenge: { raw: 'Bearer scope="a", scope="b"' } },
      ['challenge.bearer'],
    ],
    ['a challenge without Bearer', { challenge: { raw: 'Basic realm="x"' } }, ['challenge.bearer']],
    ['a malformed challenge scope', { challenge: { raw: 'Bearer scope="a\\"b"' } }, ['challenge.scope']],
    ['an unprotected endpoint', { unauthenticatedStatus: 200 }, ['mcp.unauthenticated']],
    ['403 instead of 401', { unauthenticatedStatus: 403 }, ['mcp.unauthenticated']],
    ['a PRM naming another origin', { prmResource: () => 'https://evil.example.com/mcp' }, ['prm.resource']],
    ['a PRM with no authorization server', { authorizationServers: () => [] }, ['prm.authorization-servers']],
    ['an AS whose issuer differs by a trailing slash', { issuer: (issuer) => `${issuer}/` }, ['as.issuer']],
    ['an AS naming another issuer', { issuer: () => 'https://honest.example' }, ['as.issuer']],
    ['an AS without S256', { pkce: ['plain'] }, ['as.pkce']],
    ['an AS without code_challenge_methods_supported', { pkce: null }, ['as.pkce']],
    ['no CORS on the metadata', { noCors: true }, ['cors', 'cors']],
    ['an issuer with a path served at the root', { issuerPathServedAtRoot: '/tenant' }, ['as.metadata']],
  ]
  it.each(cases)('%s', async (_name, breakage, expected) => {
    const report = await doctor(breakage)
    expect(report.ok).toBe(false)
    expect(failing(report)).toEqual(expected)
    for (const finding of report.findings.filter((f) => f.status === 'fail')) {
      expect(finding.fix).toBeTruthy()
      expect(finding.spec.length).toBeGreaterThan(0)
    }
  })

  it('an issuer differing by a trailing slash is named as such', async () => {
    const report = await doctor({ issuer: (issuer) => `${issuer}/` })
    expect(byId(report, 'as.issuer')[0]!.message).toContain('they differ only in a trailing slash')
  })

  it('an issuer path served at the root: the candidates are tried in the spec order, the root only for the fix', async () => {
    const report = await doctor({ issuerPathServedAtRoot: '/tenant' })
    const [finding] = byId(report, 'as.metadata')
    expect(finding!.fix).toContain('/.well-known/oauth-authorization-server, but the issuer has a path')
    const asRequests = deployment!.requests.filter(
      (r) => r.includes('authorization-server') || r.includes('openid'),
    )
    expect(asRequests).toEqual([
      'GET /.well-known/oauth-authorization-server/tenant',
      'GET /.well-known/openid-configuration/tenant',
      'GET /tenant/.well-known/openid-configuration',
      'GET /.well-known/oauth-authorization-server',
    ])
  })

  it('no PRM anywhere and no resource_metadata: the challenge fails too, and no AS is contacted', async () => {
    const report = await doctor({ noPrm: true, challenge: 'no-resource-metadata' })
    expect(failing(report)).toEqual(['challenge.resource-metadata', 'prm.well-known', 'prm.found'])
    expect(byId(report, 'as.metadata')).toEqual([])
  })
})

describe('runDoctor: warnings do not fail the run', () => {
  const cases: Array<[string, Breakage, string]> = [
    ['no scope in the challenge', { challenge: 'no-scope' }, 'challenge.scope'],
    [
      'no resource_metadata, PRM at the well-known URL',
      { challenge: 'no-resource-metadata' },
      'challenge.resource-metadata',
    ],
    [
      'PRM only at the root well-known URL',
      { challenge: 'no-resource-metadata', prmAtRootOnly: true },
      'prm.well-known',
    ],
    [
      'a PRM naming a parent URL on the same origin',
      { prmResource: (r) => new URL(r).origin },
      'prm.resource',
    ],
    ['a PRM naming the URL with a trailing slash', { prmResource: (r) => `${r}/` }, 'prm.resource'],
    [
      'offline_access in the PRM scopes',
      { prmScopes: ['notes:read', 'offline_access'] },
      'prm.offline-access',
    ],
    [
      'offline_access in the challenge',
      { challenge: { raw: 'Bearer scope="notes:read offline_access"' } },
      'prm.offline-access',
    ],
    ['no RFC 9207 iss', { noIss: true }, 'as.iss'],
    ['no CIMD and no DCR', { noRegistration: true }, 'as.dcr'],
    ['no CIMD', { noRegistration: true }, 'as.cimd'],
  ]
  it.each(cases)('%s', async (_name, breakage, id) => {
    const report = await doctor(breakage)
    expect(statusOf(report, id)).toEqual(['warn'])
    expect(byId(report, id)[0]!.fix).toBeTruthy()
  })

  it('a correct deployment: only the loopback http warning', async () => {
    const report = await doctor({})
    expect(report.ok).toBe(true)
    expect(report.summary).toEqual({ pass: 19, warn: 1, fail: 0, skip: 0 })
  })
})

describe('runDoctor: what it fetches is bounded by the fetch it is given', () => {
  it('a challenge pointing at the cloud metadata address is refused before any connection', async () => {
    const report = await doctor({
      challenge: { raw: 'Bearer resource_metadata="https://169.254.169.254/latest/meta-data/"' },
    })
    const [finding] = byId(report, 'prm.header-url')
    expect(finding!.status).toBe('fail')
    expect(finding!.message).toContain('ERR_ADDRESS_NOT_ALLOWED')
    expect(connected.length).toBeGreaterThan(0)
    expect(connected.every((target) => target.host === '127.0.0.1')).toBe(true)
  })

  it('authorization servers on private addresses are refused before any connection', async () => {
    const report = await doctor({
      authorizationServers: () => ['https://10.0.0.5', 'http://192.168.1.1/tenant'],
    })
    const findings = byId(report, 'as.metadata')
    expect(findings.map((f) => f.status)).toEqual(['fail', 'fail'])
    expect(findings[0]!.message).toContain('ERR_ADDRESS_NOT_ALLOWED')
    expect(findings[1]!.message).toContain('ERR_ADDRESS_NOT_ALLOWED')
    expect(connected.every((target) => target.host === '127.0.0.1')).toBe(true)
    // http on a private address is also reported by the https check.
    expect(statusOf(report, 'https')).toEqual(['fail'])
  })

  it('checks at most maxAuthorizationServers of the listed servers', async () => {
    deployment = await startFakeDeployment({ authorizationServers: (i) => [i, i, i, i, i] })
    const report = await runDoctor({
      mcpUrl: deployment.mcpUrl,
      fetch: recordingFetch(),
      maxAuthorizationServers: 2,
    })
    expect(byId(report, 'as.metadata')).toHaveLength(2)
    expect(byId(report, 'prm.authorization-servers')[0]!.message).toContain('checking the first 2')
  })

  it('a deployment served over plain http on a public name fails the https check', async () => {
    // The documents name http://mcp.example.com; the test's fetch maps it to the local listener,
    // so no packet leaves this machine.
    const local = await startFakeDeployment({}, { publicOrigin: 'http://mcp.example.com' })
    deployment = local
    const loopbackFetch = createSafeFetch({ allowLoopback: true, maxRedirects: 0 })
    const report = await runDoctor({
      mcpUrl: local.mcpUrl,
      fetch: (input, init) =>
        loopbackFetch(input.replace('http://mcp.example.com', local.listeningOrigin), init),
    })
    const [https] = byId(report, 'https')
    expect(https!.status).toBe('fail')
    expect(https!.message).toBe(
      'plain http: http://mcp.example.com (MCP endpoint, resource_metadata, issuer, authorization_endpoint, token_endpoint, registration_endpoint)',
    )
  })

  it('an unreachable server is one failure, and nothing else is attempted', async () => {
    const report = await runDoctor({
      mcpUrl: 'http://127.0.0.1:1/mcp',
      fetch: createSafeFetch({ allowLoopback: true }),
      allowHttpLoopback: true,
    })
    expect(failing(report)).toEqual(['mcp.unauthenticated'])
    expect(byId(report, 'mcp.unauthenticated')[0]!.fix).toContain('running')
  })

  it('refuses an MCP URL that is not http(s)', async () => {
    await expect(
      runDoctor({ mcpUrl: 'javascript:alert(1)', fetch: recordingFetch() }),
    ).rejects.toBeInstanceOf(CliError)
  })
})

describe('printable', () => {
  it('replaces control, escape and bidirectional characters and bounds the length', () => {
    expect(printable('a\u001b[31mb\u0007c\u202ed')).toBe('a?[31mb?c?d')
    expect(printable('x'.repeat(300), 10)).toBe(`${'x'.repeat(10)}…`)
    expect(printable(['a'])).toBe('["a"]')
  })
})
