#!/usr/bin/env node
// Runs the official MCP conformance suite (@modelcontextprotocol/conformance) against the
// Portcullis conformance client (test/conformance/client.ts), for the suites `auth`,
// `backcompat`, `draft` and `extensions`, at the 2025-11-25 and 2026-07-28 wire versions.
//
// `--requirements` cannot be combined with `--suite` in the CLI, and `--suite` with
// `--spec-version` drops scenarios outside that revision (extensions always). So every scenario
// of the four suites runs at each wire version: a suite whose scenarios all belong to the
// revision runs as one `--suite S --spec-version R` process (scenarios in parallel); the others
// run one by one, forced to the revision (`--scenario X --spec-version R --force`), where the
// client's exit status counts as well.
//
// Node 20: the CLI imports `globSync` from `fs` (Node >= 22); node20-register.mjs gives it a shim.
//
// Last line: `conformance: N passed, M failed, W warnings`. Exit 1 if M > 0 or W > 0.
//
// Environment: CONFORMANCE_CONCURRENCY (default 4), CONFORMANCE_CLIENT_TIMEOUT (ms), CONFORMANCE_ONLY (comma-separated scenario
// names), CONFORMANCE_LEVELS (comma-separated revisions), CONFORMANCE_OUTPUT (keep checks.json there).

import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = resolve(here, '..', '..')
const cli = join(root, 'node_modules', '@modelcontextprotocol', 'conformance', 'dist', 'index.js')
const register = join(here, 'node20-register.mjs')
const bundle = join(root, 'node_modules', '.cache', 'portcullis-conformance', 'client.mjs')

// The client is bundled once (esbuild ships with tsx); starting it then costs a fraction of a
// per-process TypeScript transform. Without esbuild it runs through tsx.
async function clientCommand() {
  try {
    const { build } = await import('esbuild')
    await build({
      entryPoints: [join(here, 'client.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outfile: bundle,
      logLevel: 'warning',
    })
    return `node ${bundle}`
  } catch {
    return `node --import tsx ${join(here, 'client.ts')}`
  }
}

// The suites as the CLI (0.2.0-alpha.12) defines them; checked against `conformance list` below.
const SUITES = {
  auth: [
    'auth/metadata-default',
    'auth/metadata-var1',
    'auth/metadata-var2',
    'auth/metadata-var3',
    'auth/basic-cimd',
    'auth/scope-from-www-authenticate',
    'auth/scope-from-scopes-supported',
    'auth/scope-omitted-when-undefined',
    'auth/scope-step-up',
    'auth/scope-retry-limit',
    'auth/token-endpoint-auth-basic',
    'auth/token-endpoint-auth-post',
    'auth/token-endpoint-auth-none',
    'auth/pre-registration',
  ],
  backcompat: ['auth/2025-03-26-oauth-metadata-backcompat', 'auth/2025-03-26-oauth-endpoint-fallback'],
  draft: [
    'auth/resource-mismatch',
    'auth/offline-access-scope',
    'auth/offline-access-not-supported',
    'auth/authorization-server-migration',
    'auth/iss-supported',
    'auth/iss-not-advertised',
    'auth/iss-supported-missing',
    'auth/iss-wrong-issuer',
    'auth/iss-unexpected',
    'auth/iss-normalized',
    'auth/metadata-issuer-mismatch',
  ],
  extensions: [
    'auth/client-credentials-jwt',
    'auth/client-credentials-basic',
    'auth/enterprise-managed-authorization',
    'auth/dpop',
    'auth/dpop-nonce',
    'auth/wif-jwt-bearer',
  ],
}
const LEVELS = (process.env.CONFORMANCE_LEVELS ?? '2025-11-25,2026-07-28').split(',')
const CONCURRENCY = Math.max(1, Number(process.env.CONFORMANCE_CONCURRENCY ?? 4))
// Per-client time budget (the CLI's default is 30 s); generous so a loaded CI machine does not
// turn a slow process start into a failure. A hung client still fails, only later.
const CLIENT_TIMEOUT = String(Number(process.env.CONFORMANCE_CLIENT_TIMEOUT ?? 90_000))
const ONLY = process.env.CONFORMANCE_ONLY?.split(',').filter(Boolean)
const outputDir = process.env.CONFORMANCE_OUTPUT ?? mkdtempSync(join(tmpdir(), 'portcullis-conformance-'))

function run(args, timeoutMs = 120_000) {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, ['--import', register, cli, ...args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => {
      stdout += d
    })
    child.stderr.on('data', (d) => {
      stderr += d
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolvePromise({ code: code ?? 1, stdout, stderr })
    })
  })
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: strips ANSI colour codes
const ANSI = /\u001b\[[0-9;]*m/g

async function runScenario(command, level, scenario) {
  const out = join(outputDir, level)
  const result = await run([
    'client',
    '--command',
    command,
    '--scenario',
    scenario,
    '--spec-version',
    level,
    '--force',
    '--timeout',
    CLIENT_TIMEOUT,
    '-o',
    out,
  ])
  const text = `${result.stdout}\n${result.stderr}`.replace(ANSI, '')
  const summary = /Passed: (\d+)\/(\d+), (\d+) failed, (\d+) warnings/.exec(text)
  let passed = 0
  let failed = 1
  let warnings = 0
  if (summary !== null) {
    passed = Number(summary[1])
    failed = Number(summary[3])
    warnings = Number(summary[4])
    // A timeout or a client crash outside allowClientError fails the scenario without a FAILURE check.
    if (result.code !== 0 && failed === 0 && warnings === 0) failed = 1
  }
  const problems = text
    .split('\n')
    .filter((line) => /\] (FAILURE|WARNING)\s/.test(line) || /TIMED OUT|EXITED WITH ERROR/.test(line))
    .map((line) => line.trim())
  return { level, scenario, passed, failed, warnings, problems }
}

/** Scenario name -> the revisions it belongs to, from `conformance list --client`. */
async function listScenarios() {
  const listed = await run(['list', '--client'])
  const tags = new Map()
  for (const m of listed.stdout.matchAll(/^\s+- (\S+)(?: \[([^\]]*)\])?/gm))
    tags.set(m[1], (m[2] ?? '').split(','))
  const missing = Object.values(SUITES)
    .flat()
    .filter((name) => !tags.has(name))
  if (missing.length > 0) console.log(`conformance CLI does not know: ${missing.join(', ')}`)
  return { tags, ok: missing.length === 0 }
}

async function runSuite(command, level, suite, scenarios) {
  const result = await run(
    [
      'client',
      '--command',
      command,
      '--suite',
      suite,
      '--spec-version',
      level,
      '--timeout',
      CLIENT_TIMEOUT,
      '-o',
      join(outputDir, level),
    ],
    300_000,
  )
  const text = `${result.stdout}\n${result.stderr}`.replace(ANSI, '')
  const rows = []
  for (const scenario of scenarios) {
    const escaped = scenario.replace(/[/.-]/g, (c) => `\\${c}`)
    const m = new RegExp(`^[✓✗] ${escaped}: (\\d+) passed, (\\d+) failed(?:, (\\d+) warnings)?`, 'm').exec(
      text,
    )
    const problems = []
    if (m === null) problems.push('no result in the suite summary')
    else {
      const after = text.slice(m.index).split('\n').slice(1)
      for (const line of after) {
        if (!line.startsWith('    - ')) break
        problems.push(line.trim())
      }
    }
    rows.push({
      level,
      scenario,
      passed: m === null ? 0 : Number(m[1]),
      failed: m === null ? 1 : Number(m[2]),
      warnings: m === null ? 0 : Number(m[3] ?? 0),
      problems,
    })
  }
  return rows
}

async function main() {
  const started = Date.now()
  const [{ tags, ok: namesOk }, command] = await Promise.all([listScenarios(), clientCommand()])
  const jobs = []
  for (const level of LEVELS) {
    for (const [suite, all] of Object.entries(SUITES)) {
      const scenarios = all.filter((s) => ONLY === undefined || ONLY.includes(s))
      if (scenarios.length === 0) continue
      const whole = scenarios.length === all.length && all.every((s) => tags.get(s)?.includes(level))
      if (whole) jobs.push({ level, suite, scenarios })
      else for (const scenario of scenarios) jobs.push({ level, suite, scenario })
    }
  }
  const results = []
  let next = 0
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, jobs.length) }, async () => {
      while (next < jobs.length) {
        const job = jobs[next++]
        const rows =
          job.scenarios !== undefined
            ? await runSuite(command, job.level, job.suite, job.scenarios)
            : [await runScenario(command, job.level, job.scenario)]
        for (const row of rows) {
          results.push({ ...row, suite: job.suite })
          const mark = row.failed === 0 && row.warnings === 0 ? 'ok  ' : 'FAIL'
          process.stderr.write(`${mark} ${row.level} ${row.scenario}\n`)
        }
      }
    }),
  )

  let passed = 0
  let failed = namesOk ? 0 : 1
  let warnings = 0
  for (const level of LEVELS) {
    for (const suite of Object.keys(SUITES)) {
      const rows = results.filter((r) => r.level === level && r.suite === suite)
      if (rows.length === 0) continue
      const p = rows.reduce((n, r) => n + r.passed, 0)
      const f = rows.reduce((n, r) => n + r.failed, 0)
      const w = rows.reduce((n, r) => n + r.warnings, 0)
      passed += p
      failed += f
      warnings += w
      console.log(`${level} ${suite}: ${rows.length} scenarios, ${p} passed, ${f} failed, ${w} warnings`)
      for (const row of rows.filter((r) => r.failed > 0 || r.warnings > 0)) {
        console.log(`  ${row.scenario}: ${row.failed} failed, ${row.warnings} warnings`)
        for (const line of row.problems.slice(0, 10)) console.log(`    ${line}`)
      }
    }
  }
  console.log(`results: ${outputDir} (${Math.round((Date.now() - started) / 1000)} s)`)
  console.log(`conformance: ${passed} passed, ${failed} failed, ${warnings} warnings`)
  process.exit(failed > 0 || warnings > 0 ? 1 : 0)
}

main().catch((error) => {
  console.error(error)
  console.log('conformance: 0 passed, 1 failed, 0 warnings')
  process.exit(1)
})
