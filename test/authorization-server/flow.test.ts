import { decodeJwt, decodeProtectedHeader } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  authorizeCode,
  createTestServer,
  ISSUER,
  obtainTokens,
  postForm,
  REDIRECT,
  RESOURCE,
  registerPublicClient,
} from './support.js'

describe('authorization code flow', () => {
  it('registers, logs in, consents, and exchanges the code for an RFC 9068 token', async () => {
    const { as, events } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const { location, code, verifier } = await authorizeCode(as, clientId, { state: 'st4te' })
    expect(location.origin + location.pathname).toBe(REDIRECT)
    expect(location.searchParams.get('state')).toBe('st4te')
    expect(location.searchParams.get('iss')).toBe(ISSUER)
    const response = await postForm(as, '/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT,
      client_id: clientId,
      code_verifier: verifier,
      resource: RESOURCE,
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const body = (await response.json()) as Record<string, unknown>
    expect(body['token_type']).toBe('Bearer')
    expect(body['scope']).toBe('mcp:tools')
    expect(typeof body['refresh_token']).toBe('string')
    const header = decodeProtectedHeader(body['access_token'] as string)
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' })
    const claims = decodeJwt(body['access_token'] as string)
    expect(claims).toMatchObject({
      iss: ISSUER,
      sub: 'user-ada',
      aud: RESOURCE,
      client_id: clientId,
      scope: 'mcp:tools',
    })
    expect(claims.exp! - claims.iat!).toBe(3600)
    expect(typeof claims.jti).toBe('string')
    expect(events.map((e) => e.type)).toEqual([
      'client.registered',
      'login.succeeded',
      'consent.granted',
      'token.issued',
    ])
  })

  it('refreshes with rotation', async () => {
    const { as } = await createTestServer()
    const clientId = await registerPublicClient(as)
    const tokens = await obtainTokens(as, clientId, { scope: 'mcp:tools mcp:read' })
    const r = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: clientId,
      scope: 'mcp:read',
    })
    expect(r.status).toBe(200)
    const body = (await r.json()) as Record<string, string>
    expect(body['scope']).toBe('mcp:read')
    expect(body['refresh_token']).not.toBe(tokens.refresh_token)
  })
})
