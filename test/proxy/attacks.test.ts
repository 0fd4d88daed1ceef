/**
 * One test per attack on OAuth proxies (anchors §3 S13-S18) and token passthrough, each sending
 * the malicious input to the real proxy in front of a real upstream provider and proving it fails.
 */
import { decodeJwt, exportJWK, generateKeyPair, importJWK, SignJWT } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { computeCodeChallenge, generateCodeVerifier } from '../../src/protocol/pkce.js'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import {
  approveInBrowser,
  authorizeUrl,
  CLIENT_REDIRECT,
  flowThroughProxy,
  hiddenField,
  type ProxyWorld,
  registerClient,
  startProxyWorld,
  TestBrowser,
  UPSTREAM_ACCOUNT,
  UPSTREAM_CLIENT_ID,
  UPSTREAM_CLIENT_SECRET,
} from './support.js'

let world: ProxyWorld | undefined

afterEach(async () => {
  await world?.close()
  world = undefined
})

async function newClient(w: ProxyWorld, extra: Record<string, unknown> = {}): Promise<string> {
  const { status, body } = await registerClient(w.issuer, extra)
  expect(status).toBe(201)
  return body['client_id'] as string
}

async function authorizeParams(
  w: ProxyWorld,
  clientId: string,
  redirectUri = CLIENT_REDIRECT,
): Promise<string> {
  return authorizeUrl(w.issuer, {
    response_type: 'code',
    client_id: clientId,
    redirect_uri: redirectUri,
    code_challenge: await computeCodeChallenge(generateCodeVerifier()),
    code_challenge_method: 'S256',
    resource: w.resource,
    state: 'client-state',
  })
}

/** Keys of the store's pending upstream transactions. */
function upstreamTransactions(w: ProxyWorld): number {
  return (memoryStoreSnapshot(w.store).match(/"upstream:/g) ?? []).length
}

/** Approves the consent page and returns the redirect to the provider without following it. */
async function approveOnly(w: ProxyWorld, browser: TestBrowser, url: string): Promise<URL> {
  const page = await browser.request(url, { site: 'none' })
  expect(page.status).toBe(200)
  const html = await page.text()
  const posted = await browser.request(`${w.issuer}/interaction/consent`, {
    site: 'same-origin',
    form: {
      transaction: hiddenField(html, 'transaction'),
      csrf: hiddenField(html, 'csrf'),
      decision: 'approve',
    },
  })
  expect(posted.status).toBe(303)
  const location = new URL(posted.headers.get('location')!)
  expect(location.origin).toBe(w.idp.issuer)
  return location
}

describe('attacks on the proxy', () => {
  it('S13: a freshly registered client never reaches the IdP without our consent page, even with an IdP session', async () => {
    world = await startProxyWorld()
    const w = world
    const victim = new TestBrowser()
    // The victim used the proxy once: the IdP now has a session and would approve silently.
    await flowThroughProxy(w, victim)
    const idpAuthBefore = w.idp.requests.filter((p) => p === '/auth').length
    expect(idpAuthBefore).toBe(1)

    // The attacker registers a client redirecting to their own host and sends the victim a link.
    const attacker = await newClient(w, {
      client_name: 'Totally Legit Client',
      redirect_uris: ['https://attacker.example/cb'],
      application_type: 'web',
    })
    const page = await victim.request(await authorizeParams(w, attacker, 'https://attacker.example/cb'), {
      site: 'cross-site',
    })
    expect(page.status).toBe(200)
    const html = await page.text()
    expect(html).toContain('Totally Legit Client')
    expect(html).toContain('attacker.example')
    expect(html).toContain('Test IdP')
    // Nothing went upstream: no redirect, no upstream transaction, no request at the IdP.
    expect(page.headers.get('location')).toBeNull()
    expect(upstreamTransactions(w)).toBe(0)
    expect(w.idp.requests.filter((p) => p === '/auth')).toHaveLength(idpAuthBefore)
  })

  it('S14: the IdP callback without the binding cookie of that transaction is refused with 403', async () => {
    world = await startProxyWorld()
    const w = world
    // The attacker approves their own client in their own browser and keeps the upstream URL.
    const attackerBrowser = new TestBrowser()
    const attacker = await newClient(w, { client_name: 'Attacker' })
    const upstreamUrl = await approveOnly(w, attackerBrowser, await authorizeParams(w, attacker))

    // The victim (signed in at the IdP) is sent the upstream URL; their IdP session completes it.
    const victim = new TestBrowser()
    await flowThroughProxy(w, victim)
    const atIdp = await victim.request(upstreamUrl.href, { site: 'cross-site' })
    const { location } = await victim.follow(atIdp, upstreamUrl.href, [w.idp.issuer])
    expect(location?.origin + (location?.pathname ?? '')).toBe(`${w.issuer}/upstream/callback`)
    expect(location?.searchParams.get('code')).toBeTruthy()
    const callback = await victim.request(location!.href, { site: 'cross-site' })
    expect(callback.status).toBe(403)
    expect(callback.headers.get('location')).toBeNull()
    // No code for the attacker's client, and the upstream code was never redeemed.
    expect(w.idp.requests.filter((p) => p === '/token')).toHaveLength(1)
    expect(await w.store.grants.list({ client_id: attacker })).toHaveLength(0)

    // A binding cookie of ANOTHER transaction does not do either.
    const victimUpstream = await approveOnly(w, victim, await authorizeParams(w, await newClient(w)))
    const forged = new URL(location!.href)
    expect(victimUpstream.searchParams.get('state')).not.toBe(forged.searchParams.get('state'))
    const again = await victim.request(forged.href, { site: 'cross-site' })
    expect(again.status).toBe(403)
  })

  it('S15: a cross-site consent POST with a valid transaction and CSRF token but no cookie is refused', async () => {
    world = await startProxyWorld()
    const w = world
    const attackerBrowser = new TestBrowser()
    const clientId = await newClient(w, { client_name: 'Attacker' })
    const page = await attackerBrowser.request(await authorizeParams(w, clientId), { site: 'none' })
    const html = await page.text()
    // The victim's browser posts the attacker's transaction and CSRF token from the attacker's page:
    // SameSite=Lax keeps the CSRF cookie off a cross-site POST.
    const victim = new TestBrowser()
    const posted = await victim.request(`${w.issuer}/interaction/consent`, {
      site: 'cross-site',
      form: {
        transaction: hiddenField(html, 'transaction'),
        csrf: hiddenField(html, 'csrf'),
        decision: 'approve',
      },
    })
    expect(posted.status).toBe(403)
    expect(posted.headers.get('location')).toBeNull()
    expect(upstreamTransactions(w)).toBe(0)
    expect(victim.cookies.size).toBe(0)
    expect(w.idp.requests.filter((p) => p === '/auth')).toHaveLength(0)
  })

  it('S16: remembered consent is honoured for a direct navigation only, never a cross-site one or one without Fetch Metadata', async () => {
    world = await startProxyWorld()
    const w = world
    const browser = new TestBrowser()
    const clientId = await newClient(w)
    const first = await approveInBrowser(w, browser, await authorizeParams(w, clientId), { remember: true })
    expect(first.consentShown).toBe(true)
    expect(first.location.searchParams.get('code')).toBeTruthy()

    // Cross-site navigation (a malicious page, or an AS-in-the-middle): the prompt is shown again.
    const crossSite = await browser.request(await authorizeParams(w, clientId), { site: 'cross-site' })
    expect(crossSite.status).toBe(200)
    expect(await crossSite.text()).toContain('name="decision"')
    // No Fetch Metadata at all: prompt too.
    const noHeader = await browser.request(await authorizeParams(w, clientId))
    expect(noHeader.status).toBe(200)
    expect(await noHeader.text()).toContain('name="decision"')
    expect(upstreamTransactions(w)).toBe(0)

    // A navigation the user started (typed, or opened by the MCP client): straight to the IdP.
    const direct = await approveInBrowser(w, browser, await authorizeParams(w, clientId), { site: 'none' })
    expect(direct.consentShown).toBe(false)
    expect(direct.location.searchParams.get('code')).toBeTruthy()
  })

  it('S17: the redirect allow-list is authoritative, and a stored transaction is re-validated when the IdP calls back', async () => {
    world = await startProxyWorld()
    const w = world
    const clientId = await newClient(w)
    const browser = new TestBrowser()
    // Not registered: a local error page, never a redirect.
    const unregistered = await browser.request(
      await authorizeParams(w, clientId, 'https://evil.example/cb'),
      { site: 'none' },
    )
    expect(unregistered.status).toBe(400)
    expect(unregistered.headers.get('location')).toBeNull()
    // Unsafe schemes are refused at registration.
    for (const uri of [
      'javascript:alert(1)',
      ' javascript:alert(1)',
      'data:text/html,x',
      'JaVaScRiPt:alert(1)',
    ]) {
      const { status } = await registerClient(w.issuer, { redirect_uris: [uri] })
      expect(status).toBe(400)
    }

    // The client is removed while the user is at the IdP: the callback must not redirect to it.
    const upstreamUrl = await approveOnly(w, browser, await authorizeParams(w, clientId))
    expect(await w.proxy.deleteClient(clientId)).toBe(true)
    const atIdp = await browser.request(upstreamUrl.href, { site: 'cross-site' })
    const { location } = await browser.follow(atIdp, upstreamUrl.href, [w.idp.issuer])
    const callback = await browser.request(location!.href, { site: 'cross-site' })
    expect(callback.status).toBe(400)
    expect(callback.headers.get('location')).toBeNull()
    expect(await w.store.grants.list({ client_id: clientId })).toHaveLength(0)
  })

  it('S18: no userinfo trick, no upstream credentials in DCR responses, every registration unique', async () => {
    world = await startProxyWorld()
    const w = world
    // (c) `localhost:80@evil.com` is not a loopback redirect.
    for (const uri of [
      'http://localhost:80@evil.example/cb',
      'http://127.0.0.1:47123@evil.example/callback',
    ]) {
      const { status } = await registerClient(w.issuer, { redirect_uris: [uri] })
      expect(status).toBe(400)
    }
    const clientId = await newClient(w)
    const trick = await new TestBrowser().request(
      await authorizeParams(w, clientId, 'http://127.0.0.1:47123@evil.example/callback'),
      {
        site: 'none',
      },
    )
    expect(trick.status).toBe(400)
    expect(trick.headers.get('location')).toBeNull()

    // (b) The DCR answer carries the registering client's own identity only, never the upstream one.
    const a = await registerClient(w.issuer, { token_endpoint_auth_method: 'client_secret_basic' })
    const b = await registerClient(w.issuer, { token_endpoint_auth_method: 'client_secret_basic' })
    for (const { status, body } of [a, b]) {
      expect(status).toBe(201)
      const text = JSON.stringify(body)
      expect(text).not.toContain(UPSTREAM_CLIENT_SECRET)
      expect(text).not.toContain(UPSTREAM_CLIENT_ID)
      expect(typeof body['client_secret']).toBe('string')
    }
    expect(a.body['client_id']).not.toBe(b.body['client_id'])
    expect(a.body['client_secret']).not.toBe(b.body['client_secret'])
    // Nor anything the browser sees: metadata, consent page, redirect to the IdP.
    const metadata = await (await fetch(`${w.issuer}/.well-known/oauth-authorization-server`)).text()
    expect(metadata).not.toContain(UPSTREAM_CLIENT_SECRET)
    const browser = new TestBrowser()
    const page = await browser.request(await authorizeParams(w, clientId), { site: 'none' })
    const html = await page.text()
    expect(html).not.toContain(UPSTREAM_CLIENT_SECRET)
    const posted = await browser.request(`${w.issuer}/interaction/consent`, {
      site: 'same-origin',
      form: {
        transaction: hiddenField(html, 'transaction'),
        csrf: hiddenField(html, 'csrf'),
        decision: 'approve',
      },
    })
    expect(posted.headers.get('location')).not.toContain(UPSTREAM_CLIENT_SECRET)
    expect(new URL(posted.headers.get('location')!).searchParams.get('client_id')).toBe(UPSTREAM_CLIENT_ID)
  })

  it('token passthrough: an upstream token presented to the MCP server is refused', async () => {
    world = await startProxyWorld({ mcp: true })
    const w = world
    await flowThroughProxy(w, new TestBrowser())
    const [grant] = await w.store.grants.list({ subject: UPSTREAM_ACCOUNT })
    const upstream = (await w.store.upstreamTokens.get(grant!.id, Date.now()))!
    // A JWT signed by the provider for the MCP resource itself: still not issued by the proxy.
    const key = await importJWK(w.idp.signingKey, 'ES256')
    const forged = await new SignJWT({ scope: 'mcp:tools', client_id: UPSTREAM_CLIENT_ID })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: w.idp.signingKey.kid! })
      .setIssuer(w.idp.issuer)
      .setSubject(UPSTREAM_ACCOUNT)
      .setAudience(w.mcpUrl!)
      .setIssuedAt()
      .setExpirationTime('5m')
      .setJti('forged')
      .sign(key)
    // And one signed with a fresh key claiming to be the proxy.
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    const impostor = await new SignJWT({ scope: 'mcp:tools', client_id: 'x' })
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: (await exportJWK(privateKey)).x! })
      .setIssuer(w.issuer)
      .setSubject(UPSTREAM_ACCOUNT)
      .setAudience(w.mcpUrl!)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey)
    for (const token of [upstream['access_token'] as string, forged, impostor]) {
      const response = await fetch(w.mcpUrl!, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          authorization: `Bearer ${token}`,
        },
        body: JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: { name: 'whoami', arguments: {} },
        }),
      })
      expect(response.status).toBe(401)
      expect(response.headers.get('www-authenticate')).toContain('invalid_token')
    }
  })

  it('Deny: access_denied to the validated redirect URI, nothing stored, nothing sent upstream', async () => {
    world = await startProxyWorld()
    const w = world
    const clientId = await newClient(w)
    const browser = new TestBrowser()
    const { location } = await approveInBrowser(w, browser, await authorizeParams(w, clientId), {
      decision: 'deny',
      remember: true,
    })
    expect(location.origin + location.pathname).toBe(CLIENT_REDIRECT)
    expect(location.searchParams.get('error')).toBe('access_denied')
    expect(location.searchParams.get('state')).toBe('client-state')
    expect(location.searchParams.get('iss')).toBe(w.issuer)
    // Only the provider's public metadata was read (for the consent page's CSP); no authorization.
    expect(w.idp.requests.filter((p) => !p.startsWith('/.well-known/'))).toEqual([])
    expect(upstreamTransactions(w)).toBe(0)
    expect(await w.store.grants.list({ client_id: clientId })).toHaveLength(0)
    expect(
      await w.store.consents.get(
        {
          subject: UPSTREAM_ACCOUNT,
          client_id: clientId,
          resource: w.resource,
          redirect_uri: CLIENT_REDIRECT,
        },
        Date.now(),
      ),
    ).toBeUndefined()
    const snapshot = JSON.parse(memoryStoreSnapshot(w.store)) as Record<string, unknown[]>
    expect(snapshot['transactions']).toHaveLength(0)
    expect(snapshot['upstreamTokens']).toHaveLength(0)
    expect(snapshot['consents']).toHaveLength(0)
    expect(snapshot['codes']).toHaveLength(0)
  })

  it('RFC 9207: a callback whose iss names another issuer is refused before any code exchange; state is single use', async () => {
    world = await startProxyWorld()
    const w = world
    const browser = new TestBrowser()
    const clientId = await newClient(w)
    const upstreamUrl = await approveOnly(w, browser, await authorizeParams(w, clientId))
    const state = upstreamUrl.searchParams.get('state')!
    const mixUp = new URL(`${w.issuer}/upstream/callback`)
    mixUp.searchParams.set('code', 'code-from-another-as')
    mixUp.searchParams.set('state', state)
    mixUp.searchParams.set('iss', 'https://evil.example')
    const response = await browser.request(mixUp.href, { site: 'cross-site' })
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get('location')!)
    expect(location.origin + location.pathname).toBe(CLIENT_REDIRECT)
    expect(location.searchParams.get('error')).toBe('server_error')
    expect(location.searchParams.get('code')).toBeNull()
    expect(w.idp.requests.filter((p) => p === '/token')).toHaveLength(0)
    // The state was spent: the same callback again is an expired request.
    const replay = await browser.request(mixUp.href, { site: 'cross-site' })
    expect(replay.status).toBe(400)
  })

  it('a denial at the provider reaches the client as access_denied, with nothing kept', async () => {
    world = await startProxyWorld()
    const w = world
    const browser = new TestBrowser()
    const clientId = await newClient(w)
    const upstreamUrl = await approveOnly(w, browser, await authorizeParams(w, clientId))
    const denied = new URL(`${w.issuer}/upstream/callback`)
    denied.searchParams.set('error', 'access_denied')
    denied.searchParams.set('state', upstreamUrl.searchParams.get('state')!)
    denied.searchParams.set('iss', w.idp.issuer)
    const response = await browser.request(denied.href, { site: 'cross-site' })
    expect(response.status).toBe(302)
    const location = new URL(response.headers.get('location')!)
    expect(location.origin + location.pathname).toBe(CLIENT_REDIRECT)
    expect(location.searchParams.get('error')).toBe('access_denied')
    expect(location.searchParams.get('state')).toBe('client-state')
    expect(await w.store.grants.list({ client_id: clientId })).toHaveLength(0)
    expect(JSON.parse(memoryStoreSnapshot(w.store))['upstreamTokens']).toHaveLength(0)
    // The binding cookie is cleared with the transaction.
    expect([...browser.cookies.keys()].some((name) => name.startsWith('portcullis_upstream'))).toBe(false)
  })

  it('the upstream state expires after 10 minutes', async () => {
    world = await startProxyWorld()
    const w = world
    const browser = new TestBrowser()
    const upstreamUrl = await approveOnly(w, browser, await authorizeParams(w, await newClient(w)))
    const atIdp = await browser.request(upstreamUrl.href, { site: 'cross-site' })
    const { location } = await browser.follow(atIdp, upstreamUrl.href, [w.idp.issuer])
    w.clock.offset = 601_000
    const callback = await browser.request(location!.href, { site: 'cross-site' })
    expect(callback.status).toBe(400)
    expect(w.idp.requests.filter((p) => p === '/token')).toHaveLength(0)
  })

  it('a token this proxy did not issue gets no upstream token', async () => {
    world = await startProxyWorld()
    const w = world
    await flowThroughProxy(w, new TestBrowser())
    for (const authInfo of [
      { clientId: 'x', claims: { iss: w.issuer, jti: 'unknown', client_id: 'x', sub: UPSTREAM_ACCOUNT } },
      { clientId: 'x', claims: { iss: 'https://other.example', jti: 'j', client_id: 'x' } },
      { clientId: 'x' },
    ]) {
      await expect(w.proxy.upstreamTokenFor(authInfo)).rejects.toMatchObject({
        code: 'ERR_NO_UPSTREAM_TOKEN',
      })
    }
  })

  it('an expired, revoked or altered access token gets no upstream token, though its grant lives on', async () => {
    world = await startProxyWorld()
    const w = world
    const tokens = await flowThroughProxy(w, new TestBrowser())
    const claims = decodeJwt(tokens.access_token) as Record<string, unknown>
    const authInfo = { clientId: tokens.client_id, claims }
    await expect(w.proxy.upstreamTokenFor(authInfo)).resolves.toBeDefined()
    const refused = (info: typeof authInfo) =>
      expect(w.proxy.upstreamTokenFor(info)).rejects.toMatchObject({ code: 'ERR_NO_UPSTREAM_TOKEN' })
    // A handler that kept the AuthInfo past the token's expiry.
    w.clock.offset = (tokens.expires_in + 1) * 1000
    await refused(authInfo)
    w.clock.offset = 0
    // Claims naming the grant but another user, or another client.
    await refused({ ...authInfo, claims: { ...claims, sub: 'someone-else' } })
    await refused({ clientId: 'other-client', claims: { ...claims, client_id: 'other-client' } })
    // The token revoked by its client.
    const revoke = await fetch(`${w.issuer}/revoke`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tokens.access_token, client_id: tokens.client_id }),
    })
    expect(revoke.status).toBe(200)
    await refused(authInfo)
  })
})
