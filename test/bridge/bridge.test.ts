import { existsSync, readdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runCli } from '../cli/support/run-cli.js'
import {
  type BridgeSession,
  credentialFlags,
  launchBridge,
  MACHINE_CLIENT,
  type Serve,
  startClientCredentialsDeployment,
  startTestServe,
  tempRoot,
} from './support.js'

let root: string
let serve: Serve
let mcp: string
let account: { username: string; password: string }
const open: BridgeSession[] = []

beforeAll(async () => {
  root = tempRoot()
  serve = await startTestServe(root)
  mcp = serve.runtime.mcpUrl
  const demo = serve.runtime.account
  if (demo === undefined) throw new Error('serve started without a demo account')
  account = { username: demo.username, password: demo.password }
}, 60_000)

afterAll(async () => {
  await Promise.allSettled(open.map((session) => session.close()))
  await serve?.runtime.close(500)
  rmSync(root, { recursive: true, force: true })
})

function text(result: unknown): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? []
  return content.map((item) => item.text ?? '').join('\n')
}

describe('portcullis bridge, driven by the MCP SDK stdio client', { timeout: 120_000 }, () => {
  const shared = () => credentialFlags(join(root, 'shared-credentials'))

  it('two bridges started at once for one server cause exactly one login, and both list and call tools', async () => {
    const before = {
      logins: serve.count('login.succeeded'),
      codes: serve.count('token.issued', 'authorization_code'),
    }
    const a = launchBridge({ url: mcp, args: shared(), account })
    const b = launchBridge({ url: mcp, args: shared(), account })
    open.push(a.session, b.session)
    await Promise.all([a.connected, b.connected])

    for (const { session } of [a, b]) {
      const { tools } = await session.client.listTools()
      expect(tools.map((tool) => tool.name).sort()).toEqual([
        'add_note',
        'delete_all_notes',
        'list_notes',
        'whoami',
      ])
      const whoami = JSON.parse(text(await session.client.callTool({ name: 'whoami', arguments: {} })))
      expect(whoami).toMatchObject({ subject: account.username, scopes: ['notes:read'] })
    }

    // One browser login between the two processes, and one authorization code redeemed.
    expect(a.session.logins() + b.session.logins()).toBe(1)
    expect(serve.count('login.succeeded') - before.logins).toBe(1)
    expect(serve.count('token.issued', 'authorization_code') - before.codes).toBe(1)
    // The progress and the login URL went to stderr; stdout held nothing but JSON-RPC.
    expect(a.session.stderr() + b.session.stderr()).toContain('Open this URL in a browser to log in:')
    expect(a.session.channelErrors).toEqual([])
    expect(b.session.channelErrors).toEqual([])
    expect([...a.session.loginErrors, ...b.session.loginErrors]).toEqual([])
    await Promise.all([a.session.close(), b.session.close()])
  })

  it('a new bridge reuses the shared credentials without logging in', async () => {
    const before = serve.count('token.issued')
    const { session, connected } = launchBridge({ url: mcp, args: shared() })
    open.push(session)
    await connected
    expect(text(await session.client.callTool({ name: 'list_notes', arguments: {} }))).toBe('No notes yet.')
    expect(session.stderr()).not.toContain('Open this URL')
    expect(serve.count('token.issued')).toBe(before)
    await session.close()
  })

  it('a tool that answers 403 insufficient_scope steps up through the bridge', async () => {
    const { session, connected } = launchBridge({ url: mcp, args: shared(), account })
    open.push(session)
    await connected
    const result = await session.client.callTool({
      name: 'add_note',
      arguments: { text: 'through the bridge' },
    })
    expect(result.isError).not.toBe(true)
    expect(text(result)).toBe('Saved note 1.')
    expect(session.logins()).toBe(1)
    expect(session.loginErrors).toEqual([])
    expect(session.stderr()).toContain('More scope needed: ')
    const issued = serve.audit.filter((event) => event.type === 'token.issued').at(-1)
    expect(issued?.scopes).toEqual(expect.arrayContaining(['notes:read', 'notes:write']))
    expect(session.channelErrors).toEqual([])
    await session.close()
  })

  it('uses PORTCULLIS_BEARER_TOKEN from the environment without any login or stored credentials', async () => {
    const token = await runCli(['token', mcp, '--no-login', ...shared()])
    expect(token.code).toBe(0)
    const accessToken = token.stdout.trim()
    const before = { issued: serve.count('token.issued'), logins: serve.count('login.succeeded') }
    const fresh = join(root, 'unused-credentials')
    const { session, connected } = launchBridge({
      url: mcp,
      args: credentialFlags(fresh),
      env: { PORTCULLIS_BEARER_TOKEN: accessToken },
    })
    open.push(session)
    await connected
    const whoami = JSON.parse(text(await session.client.callTool({ name: 'whoami', arguments: {} })))
    expect(whoami.subject).toBe(account.username)
    expect(session.stderr()).not.toContain('Open this URL')
    expect(session.stderr()).not.toContain(accessToken)
    expect(serve.count('token.issued')).toBe(before.issued)
    expect(serve.count('login.succeeded')).toBe(before.logins)
    expect(existsSync(fresh) ? readdirSync(fresh) : []).toEqual([])
    await session.close()
  })

  it('a refused bearer token becomes a JSON-RPC error for the host, not a login or a hang', async () => {
    const { session, connected } = launchBridge({
      url: mcp,
      args: credentialFlags(join(root, 'refused-credentials')),
      env: { PORTCULLIS_BEARER_TOKEN: 'not-a-valid-token' },
    })
    open.push(session)
    await expect(connected).rejects.toThrow(/The remote MCP server answered HTTP 401: .*invalid_token/)
    expect(session.stderr()).toContain('the remote refused PORTCULLIS_BEARER_TOKEN (HTTP 401)')
    expect(session.stderr()).not.toContain('Open this URL')
    await session.close()
  })
})

describe('portcullis bridge with client credentials from the environment', { timeout: 120_000 }, () => {
  it('gets tokens headlessly, steps up with them, and never opens a login', async () => {
    const deployment = await startClientCredentialsDeployment()
    try {
      const env = {
        PORTCULLIS_CLIENT_ID: MACHINE_CLIENT.client_id,
        PORTCULLIS_CLIENT_SECRET: MACHINE_CLIENT.client_secret,
        PORTCULLIS_ISSUER: deployment.issuer,
      }
      const { session, connected } = launchBridge({
        url: deployment.mcpUrl,
        args: credentialFlags(join(root, 'machine-credentials')),
        env,
      })
      open.push(session)
      await connected
      const whoami = JSON.parse(text(await session.client.callTool({ name: 'whoami', arguments: {} })))
      expect(whoami).toMatchObject({ subject: MACHINE_CLIENT.client_id, scopes: ['notes:read'] })
      expect(text(await session.client.callTool({ name: 'add_note', arguments: { text: 'headless' } }))).toBe(
        'Saved note 1.',
      )
      const issued = deployment.audit.filter((event) => event.type === 'token.issued')
      expect(issued.map((event) => event.grant_type)).toEqual(['client_credentials', 'client_credentials'])
      expect(issued[1]?.scopes).toEqual(expect.arrayContaining(['notes:read', 'notes:write']))
      expect(session.stderr()).not.toContain('Open this URL')
      expect(session.stderr()).not.toContain(MACHINE_CLIENT.client_secret)
      expect(session.channelErrors).toEqual([])
      await session.close()
    } finally {
      await deployment.close()
    }
  })

  it('never sends the client secret to an authorization server other than PORTCULLIS_ISSUER', async () => {
    const deployment = await startClientCredentialsDeployment()
    try {
      const { session, connected } = launchBridge({
        url: deployment.mcpUrl,
        args: credentialFlags(join(root, 'machine-credentials-2')),
        env: {
          PORTCULLIS_CLIENT_ID: MACHINE_CLIENT.client_id,
          PORTCULLIS_CLIENT_SECRET: MACHINE_CLIENT.client_secret,
          PORTCULLIS_ISSUER: 'https://issuer.invalid',
        },
      })
      open.push(session)
      await expect(connected).rejects.toThrow(/no pre-registered client for this authorization server/)
      // The token endpoint was never asked: no token, no rejected client authentication.
      expect(
        deployment.audit.filter(
          (event) => event.type.startsWith('token.') || event.type === 'client.rejected',
        ),
      ).toEqual([])
      await session.close()
    } finally {
      await deployment.close()
    }
  })
})
