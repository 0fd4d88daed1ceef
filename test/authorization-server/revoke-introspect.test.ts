import { describe, expect, it } from 'vitest'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import { createTestServer, obtainTokens, postForm, RESOURCE, registerPublicClient } from './support.js'

const RS_SECRET = 'resource-server-secret-0123456789'
const rsAuth = { authorization: `Basic ${btoa(`rs:${RS_SECRET}`)}` }

async function server() {
  return createTestServer({
    clients: [
      {
        client_id: 'rs',
        client_secret: RS_SECRET,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
  })
}

async function introspect(as: Awaited<ReturnType<typeof server>>['as'], token: string) {
  const r = await postForm(as, '/introspect', { token }, rsAuth)
  expect(r.status).toBe(200)
  expect(r.headers.get('cache-control')).toBe('no-store')
  return (await r.json()) as Record<string, unknown>
}

describe('introspection (RFC 7662)', () => {
  it('describes active access and refresh tokens to an authenticated confidential client', async () => {
    const { as } = await server()
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    expect(await introspect(as, tokens.access_token)).toMatchObject({
      active: true,
      client_id: id,
      sub: 'user-ada',
      aud: RESOURCE,
      scope: 'mcp:tools',
      token_type: 'Bearer',
    })
    expect(await introspect(as, tokens.refresh_token)).toMatchObject({
      active: true,
      token_type: 'refresh_token',
      client_id: id,
    })
    expect(await introspect(as, 'garbage')).toEqual({ active: false })
  })

  it('refuses public clients and unauthenticated callers', async () => {
    const { as } = await server()
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    expect((await postForm(as, '/introspect', { token: tokens.access_token, client_id: id })).status).toBe(
      401,
    )
    expect((await postForm(as, '/introspect', { token: tokens.access_token })).status).toBe(401)
  })

  it('reports an expired access token as inactive', async () => {
    const { as, clock } = await server()
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    clock.advance(3_601_000)
    expect(await introspect(as, tokens.access_token)).toEqual({ active: false })
  })
})

describe('revocation (RFC 7009)', () => {
  it('revoking a refresh token revokes its whole family and its access tokens', async () => {
    const { as, events } = await server()
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    const rotated = (await (
      await postForm(as, '/token', {
        grant_type: 'refresh_token',
        refresh_token: tokens.refresh_token,
        client_id: id,
      })
    ).json()) as {
      refresh_token: string
      access_token: string
    }
    const r = await postForm(as, '/revoke', {
      token: rotated.refresh_token,
      token_type_hint: 'refresh_token',
      client_id: id,
    })
    expect(r.status).toBe(200)
    expect(await introspect(as, tokens.access_token)).toEqual({ active: false })
    expect(await introspect(as, rotated.access_token)).toEqual({ active: false })
    expect(
      (
        await postForm(as, '/token', {
          grant_type: 'refresh_token',
          refresh_token: rotated.refresh_token,
          client_id: id,
        })
      ).status,
    ).toBe(400)
    expect(events.some((e) => e.type === 'grant.revoked' && e.reason === 'revocation')).toBe(true)
  })

  it('revoking an access token leaves the refresh token usable', async () => {
    const { as } = await server()
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    expect((await postForm(as, '/revoke', { token: tokens.access_token, client_id: id })).status).toBe(200)
    expect(await introspect(as, tokens.access_token)).toEqual({ active: false })
    expect(
      (
        await postForm(as, '/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: id,
        })
      ).status,
    ).toBe(200)
  })

  it('answers 200 for unknown tokens and requires client identification', async () => {
    const { as } = await server()
    const id = await registerPublicClient(as)
    expect((await postForm(as, '/revoke', { token: 'unknown', client_id: id })).status).toBe(200)
    expect((await postForm(as, '/revoke', { token: 'unknown' })).status).toBe(401)
    expect((await postForm(as, '/revoke', { client_id: id })).status).toBe(400)
  })

  it('lets an administrator revoke a grant', async () => {
    const { as, store, clock } = await server()
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    const grant = (await store.grants.list({ client_id: id }))[0]!
    expect(await as.revokeGrant(grant.id)).toBe(true)
    expect((await store.grants.get(grant.id, clock.now))?.revoked_at).toBeDefined()
    expect(await introspect(as, tokens.refresh_token)).toEqual({ active: false })
    expect(await introspect(as, tokens.access_token)).toEqual({ active: false })
  })

  it('stores nothing when it issues an access token, and records a revocation only once', async () => {
    const { as, store, events } = await server()
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    const claims = JSON.parse(atob(tokens.access_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))
    const grant = (await store.grants.list({ client_id: id }))[0]!
    // The token names its grant, so revoking the grant ends it without a record per token;
    // introspection says so too, for resource servers that introspect.
    expect(claims.grant_id).toBe(grant.id)
    expect((await introspect(as, tokens.access_token))['grant_id']).toBe(grant.id)
    expect(JSON.parse(memoryStoreSnapshot(store)).accessTokens).toHaveLength(0)
    for (let i = 0; i < 2; i++) {
      expect((await postForm(as, '/revoke', { token: tokens.access_token, client_id: id })).status).toBe(200)
    }
    expect(JSON.parse(memoryStoreSnapshot(store)).accessTokens).toHaveLength(1)
    expect(events.filter((e) => e.type === 'token.revoked')).toHaveLength(1)
  })

  it('introspects and revokes a client-credentials token, which has no stored grant', async () => {
    const { as } = await server()
    const r = await postForm(as, '/token', { grant_type: 'client_credentials', resource: RESOURCE }, rsAuth)
    const { access_token } = (await r.json()) as { access_token: string }
    const claims = JSON.parse(atob(access_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))
    expect(claims.grant_id).toBeUndefined()
    expect(await introspect(as, access_token)).toMatchObject({ active: true, client_id: 'rs', sub: 'rs' })
    expect((await postForm(as, '/revoke', { token: access_token }, rsAuth)).status).toBe(200)
    expect(await introspect(as, access_token)).toEqual({ active: false })
  })
})
