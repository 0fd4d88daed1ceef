import { spawn } from 'node:child_process'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI_ENTRY, REPO_ROOT, runCli } from '../cli/support/run-cli.js'
import { type RemoteServer, startRemoteServer } from './remote-server.js'
import { credentialFlags, tempRoot } from './support.js'

let root: string
let remote: RemoteServer

beforeAll(async () => {
  root = tempRoot()
  remote = await startRemoteServer()
})

afterAll(async () => {
  await remote.close()
  rmSync(root, { recursive: true, force: true })
})

/** `portcullis bridge` as a raw child process: its stdin, every byte of its stdout, its stderr. */
function spawnBridge(url: string) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', CLI_ENTRY, 'bridge', url, ...credentialFlags(join(root, 'credentials'))],
    { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: '1' }, stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  void exited.then(() => clearTimeout(timer))
  return {
    child,
    exited,
    stdout: () => stdout,
    stderr: () => stderr,
    send: (message: unknown) => child.stdin.write(`${JSON.stringify(message)}\n`),
    /** Parsed stdout lines; fails on anything that is not a JSON-RPC 2.0 message. */
    messages: () =>
      stdout
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => {
          const message = JSON.parse(line) as { jsonrpc?: string; id?: unknown }
          if (message.jsonrpc !== '2.0') throw new Error(`not JSON-RPC: ${line}`)
          return message
        }),
  }
}

const initialize = {
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw-host', version: '1' } },
}

describe('the bridge process', { timeout: 90_000 }, () => {
  it('writes nothing but JSON-RPC to stdout, and exits when stdin ends, ending the remote session', async () => {
    const bridge = spawnBridge(remote.url)
    bridge.send(initialize)
    await expect.poll(() => bridge.messages().length, { timeout: 30_000 }).toBe(1)
    bridge.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    bridge.send({ jsonrpc: '2.0', id: 'two', method: 'tools/list' })
    bridge.send({
      jsonrpc: '2.0',
      id: 3,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x' } },
    })
    await expect.poll(() => bridge.messages().length, { timeout: 10_000 }).toBe(3)
    const session = remote.seen.find((seen) => seen.sessionId !== undefined)?.sessionId
    bridge.child.stdin.end()
    expect(await bridge.exited).toBe(0)

    const messages = bridge.messages()
    expect(messages.map((message) => message.id)).toEqual([1, 'two', 3])
    expect(bridge.stdout().endsWith('\n')).toBe(true)
    expect(bridge.stderr()).toContain(`portcullis bridge: forwarding stdio to ${remote.url}`)
    expect(bridge.stderr()).toContain('portcullis bridge: closed')
    expect(remote.seen.at(-1)).toMatchObject({ method: 'DELETE', sessionId: session })
  })

  it('closes cleanly on SIGTERM', async () => {
    const bridge = spawnBridge(remote.url)
    bridge.send(initialize)
    await expect.poll(() => bridge.messages().length, { timeout: 30_000 }).toBe(1)
    const before = remote.seen.filter((seen) => seen.method === 'DELETE').length
    bridge.child.kill('SIGTERM')
    expect(await bridge.exited).toBe(0)
    expect(remote.seen.filter((seen) => seen.method === 'DELETE').length).toBe(before + 1)
    expect(bridge.stderr()).toContain('portcullis bridge: closed')
  })

  it('refuses contradictory or incomplete credentials in the environment, with the fix', async () => {
    const both = await runCli(['bridge', remote.url], {
      env: { PORTCULLIS_BEARER_TOKEN: 'abc', PORTCULLIS_CLIENT_ID: 'bot' },
    })
    expect(both.code).toBe(1)
    expect(both.stdout).toBe('')
    expect(both.stderr).toContain(
      'set either PORTCULLIS_BEARER_TOKEN or PORTCULLIS_CLIENT_ID/PORTCULLIS_CLIENT_SECRET',
    )
    expect(both.stderr).toContain('fix: ')

    const noIssuer = await runCli(['bridge', remote.url], {
      env: { PORTCULLIS_CLIENT_ID: 'bot', PORTCULLIS_CLIENT_SECRET: 'secret-value' },
    })
    expect(noIssuer.code).toBe(1)
    expect(noIssuer.stderr).toContain('client credentials need PORTCULLIS_ISSUER')
    expect(noIssuer.stderr).not.toContain('secret-value')
  })

  it('refuses to send a static token over plain http to another machine, before connecting', async () => {
    const result = await runCli(['bridge', 'http://mcp.example.com/mcp'], {
      env: { PORTCULLIS_BEARER_TOKEN: 'abc' },
    })
    expect(result.code).toBe(2)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('refusing to send PORTCULLIS_BEARER_TOKEN without TLS')
  })
})
