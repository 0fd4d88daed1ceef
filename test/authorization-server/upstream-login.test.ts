/**
 * The upstream login mode (used by the proxy) with a fake provider: consent first, then the
 * provider, then the callback completes the transaction under the provider's grant id.
 */
import { decodeJwt } from 'jose'
import { describe, expect, it } from 'vitest'
import type { UpstreamCompletion, UpstreamLogin } from '../../src/authorization-server/index.js'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import {
  authorizeUrl,
  browse,
  CookieJar,
  createTestServer,
  hiddenField,
  ISSUER,
  pkce,
  postForm,
  REDIRECT,
  RESOURCE,
  registerPublicClient,
} from './support.js'

function fakeProvider(outcome: (transactionId: string) => UpstreamCompletion) {
  const discarded: string[] = []
  const login: UpstreamLogin = {
    name: 'ExampleID',
    callbackPath: '/upstream/callback',
    formActionSources: async () => ['https://idp.example'],
    begin: async ({ transactionId }) =>
      new Response(null, {
        status: 303,
        headers: { location: `https://idp.example/auth?tx=${transactionId}` },
      }),
    complete: async (request) => {
      const tx = new URL(request.url).searchParams.get('tx')
      if (tx === null) return new Response('bad callback', { status: 400 })
      return outcome(tx)
    },
    discard: async (grantId) => {
      discarded.push(grantId)
    },
    accessTokenClaims: async () => ({
      upstream_iss: 'https://idp.example',
      upstream_sub: 'idp-user',
      iss: 'forged',
    }),
  }
  return { login, discarded }
}

async function consentAndGoUpstream(
  as: Awaited<ReturnType<typeof createTestServer>>['as'],
  jar: CookieJar,
  clientId: string,
  remember = false,
) {
  const { verifier, challenge } = await pkce()
  const page = await browse(
    as,
    jar,
    authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
      state: 'st',
    }),
    { site: 'none' },
  )
  expect(page.status).toBe(200)
  const html = await page.text()
  expect(html).toContain('ExampleID')
  expect(page.headers.get('content-security-policy')).toContain('https://idp.example')
  const form: Record<string, string> = {
    transaction: hiddenField(html, 'transaction'),
    csrf: hiddenField(html, 'csrf'),
    decision: 'approve',
  }
  if (remember) form['remember'] = 'on'
  const posted = await browse(as, jar, '/interaction/consent', { form, site: 'same-origin' })
  expect(posted.status).toBe(303)
  const upstreamUrl = new URL(posted.headers.get('location')!)
  expect(upstreamUrl.origin).toBe('https://idp.example')
  return { tx: upstreamUrl.searchParams.get('tx')!, verifier }
}

describe('upstream login', () => {
  it('shows consent before the provider, completes at the callback and issues tokens with the provider’s grant id and claims', async () => {
    const provider = fakeProvider((transactionId) => ({
      transactionId,
      user: { subject: 'idp-user' },
      grantId: 'grant-from-provider',
      setCookies: ['binding=; Max-Age=0; Path=/'],
    }))
    const { as, store } = await createTestServer({ login: { upstream: provider.login } })
    const clientId = await registerPublicClient(as)
    const jar = new CookieJar()
    const { tx, verifier } = await consentAndGoUpstream(as, jar, clientId, true)
    const callback = await browse(as, jar, `/upstream/callback?tx=${tx}`, { site: 'cross-site' })
    expect(callback.status).toBe(302)
    expect(callback.headers.getSetCookie().some((c) => c.startsWith('binding='))).toBe(true)
    const location = new URL(callback.headers.get('location')!)
    expect(location.searchParams.get('iss')).toBe(ISSUER)
    const r = await postForm(as, '/token', {
      grant_type: 'authorization_code',
      code: location.searchParams.get('code')!,
      code_verifier: verifier,
      client_id: clientId,
      redirect_uri: REDIRECT,
    })
    const claims = decodeJwt(((await r.json()) as { access_token: string }).access_token)
    expect(claims).toMatchObject({
      sub: 'idp-user',
      iss: ISSUER,
      upstream_iss: 'https://idp.example',
      upstream_sub: 'idp-user',
    })
    expect((await store.grants.get('grant-from-provider', Date.UTC(2026, 0, 1)))?.subject).toBe('idp-user')
    // Remembered: the next direct navigation goes straight to the provider; a cross-site one does not.
    const { challenge } = await pkce()
    const again = authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: RESOURCE,
    })
    expect((await browse(as, jar, again, { site: 'cross-site' })).status).toBe(200)
    const direct = await browse(as, jar, again, { site: 'none' })
    expect(direct.status).toBe(303)
    expect(new URL(direct.headers.get('location')!).origin).toBe('https://idp.example')
  })

  it('passes provider errors to the client, and discards the grant when the transaction cannot complete', async () => {
    let mode: 'error' | 'ok' = 'error'
    const provider = fakeProvider((transactionId) =>
      mode === 'error'
        ? { transactionId, error: 'access_denied', setCookies: [] }
        : { transactionId, user: { subject: 'idp-user' }, grantId: 'late-grant', setCookies: [] },
    )
    const { as, store } = await createTestServer({ login: { upstream: provider.login } })
    const clientId = await registerPublicClient(as)
    const jar = new CookieJar()
    const first = await consentAndGoUpstream(as, jar, clientId)
    const denied = await browse(as, jar, `/upstream/callback?tx=${first.tx}`)
    expect(new URL(denied.headers.get('location')!).searchParams.get('error')).toBe('access_denied')
    mode = 'ok'
    // The same transaction again (replayed callback): already consumed, the provider's grant is dropped.
    const before = memoryStoreSnapshot(store)
    const replay = await browse(as, jar, `/upstream/callback?tx=${first.tx}`)
    expect(replay.status).toBe(400)
    expect(replay.headers.get('location')).toBeNull()
    expect(provider.discarded).toEqual(['late-grant'])
    expect(memoryStoreSnapshot(store)).toBe(before)
  })
})
