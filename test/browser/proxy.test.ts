/**
 * The proxy in a real browser (Chromium): the whole approve path through the consent page, the
 * upstream provider (node-oidc-provider on loopback) and back to the MCP client's redirect URI;
 * and the Deny path, which must leave nothing behind.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Browser } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { computeCodeChallenge, generateCodeVerifier } from '../../src/protocol/pkce.js'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import {
  authorizeUrl,
  type ProxyWorld,
  registerClient,
  startProxyWorld,
  UPSTREAM_ACCOUNT,
} from '../proxy/support.js'
import { launchChromium } from './launch.js'

let browser: Browser
let world: ProxyWorld
let clientServer: Server
let clientOrigin = ''
const callbacks: URL[] = []

beforeAll(async () => {
  // The MCP client's loopback redirect receiver.
  clientServer = createServer((req, res) => {
    const url = new URL(req.url ?? '/', clientOrigin)
    if (url.pathname === '/callback') callbacks.push(url)
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>Client</title><p>You can close this window.</p>')
  })
  await new Promise<void>((resolve) => clientServer.listen(0, '127.0.0.1', resolve))
  clientOrigin = `http://127.0.0.1:${(clientServer.address() as AddressInfo).port}`
  world = await startProxyWorld()
  browser = await launchChromium()
})

afterAll(async () => {
  await browser?.close()
  await world?.close()
  clientServer.closeAllConnections()
  await new Promise<void>((resolve) => clientServer.close(() => resolve()))
})

async function registered(): Promise<{ clientId: string; redirectUri: string }> {
  const redirectUri = `${clientOrigin}/callback`
  const { status, body } = await registerClient(world.issuer, {
    client_name: 'Browser MCP Client',
    redirect_uris: [redirectUri],
  })
  expect(status).toBe(201)
  return { clientId: body['client_id'] as string, redirectUri }
}

async function authorization(clientId: string, redirectUri: string, verifier: string): Promise<string> {
  return authorizeUrl(world.issuer, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: await computeCodeChallenge(verifier),
    code_challenge_method: 'S256',
    resource: world.resource,
    state: 'browser-state',
  })
}

describe('proxy in Chromium', () => {
  it('approve: consent page first, then the provider, then back to the client with our code', async () => {
    const { clientId, redirectUri } = await registered()
    const verifier = generateCodeVerifier()
    const context = await browser.newContext()
    const errors: string[] = []
    try {
      const page = await context.newPage()
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(message.text())
      })
      await page.goto(await authorization(clientId, redirectUri, verifier))
      // Our page, before anything went upstream (only the provider's public metadata was read).
      expect(world.idp.requests.filter((p) => !p.startsWith('/.well-known/'))).toEqual([])
      expect(await page.locator('h1').textContent()).toContain('Browser MCP Client')
      expect(await page.textContent('body')).toContain('Test IdP')
      await Promise.all([
        page.waitForURL(`${redirectUri}?**`),
        page.getByRole('button', { name: 'Approve' }).click(),
      ])
      const landed = new URL(page.url())
      expect(landed.searchParams.get('state')).toBe('browser-state')
      expect(landed.searchParams.get('iss')).toBe(world.issuer)
      const code = landed.searchParams.get('code')
      expect(code).toBeTruthy()
      // The binding cookie was used up at the callback.
      const cookies = await context.cookies(world.issuer)
      expect(cookies.some((c) => c.name.startsWith('portcullis_upstream'))).toBe(false)

      const response = await fetch(`${world.issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: code!,
          redirect_uri: redirectUri,
          client_id: clientId,
          code_verifier: verifier,
          resource: world.resource,
        }).toString(),
      })
      expect(response.status).toBe(200)
      const grants = await world.store.grants.list({ client_id: clientId })
      expect(grants).toHaveLength(1)
      expect(grants[0]!.subject).toBe(UPSTREAM_ACCOUNT)
      expect(await world.store.upstreamTokens.get(grants[0]!.id, Date.now())).toBeDefined()
      expect(errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('deny: access_denied at the client, and no grant, no upstream transaction, no upstream tokens, no consent record', async () => {
    const { clientId, redirectUri } = await registered()
    const idpRequests = world.idp.requests.filter((p) => !p.startsWith('/.well-known/')).length
    const before = JSON.parse(memoryStoreSnapshot(world.store)) as Record<string, unknown[]>
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(await authorization(clientId, redirectUri, generateCodeVerifier()))
      await page.getByLabel('Remember my decision for this application').check()
      await Promise.all([
        page.waitForURL(`${redirectUri}?**`),
        page.getByRole('button', { name: 'Deny' }).click(),
      ])
      const landed = new URL(page.url())
      expect(landed.searchParams.get('error')).toBe('access_denied')
      expect(landed.searchParams.get('state')).toBe('browser-state')
      expect(landed.searchParams.get('code')).toBeNull()
    } finally {
      await context.close()
    }
    expect(world.idp.requests.filter((p) => !p.startsWith('/.well-known/'))).toHaveLength(idpRequests)
    expect(await world.store.grants.list({ client_id: clientId })).toHaveLength(0)
    const after = JSON.parse(memoryStoreSnapshot(world.store)) as Record<string, unknown[]>
    const text = JSON.stringify(after)
    expect(text).not.toContain('"upstream:')
    expect(after['transactions']).toHaveLength(0)
    expect(after['upstreamTokens']).toHaveLength(before['upstreamTokens']!.length)
    expect(after['consents']).toHaveLength(before['consents']!.length)
    expect(after['codes']).toHaveLength(before['codes']!.length)
    expect(after['grants']).toHaveLength(before['grants']!.length)
  })
})
