import { createLocalJWKSet, decodeProtectedHeader, generateKeyPair, jwtVerify, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createAuthorizationServer, rotateSigningKeys } from '../../src/authorization-server/index.js'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import {
  COOKIE_SECRET,
  createTestServer,
  ISSUER,
  obtainTokens,
  postForm,
  RESOURCE,
  registerPublicClient,
} from './support.js'

async function jwks(as: { fetch(r: Request): Promise<Response> }) {
  return (await (await as.fetch(new Request(`${ISSUER}/jwks`))).json()) as {
    keys: { kid: string; d?: string }[]
  }
}

describe('signing keys', () => {
  it('generates one ES256 key on first start, publishes only its public half, and signs verifiable tokens', async () => {
    const { as, store } = await createTestServer()
    await as.ready()
    const set = await jwks(as)
    expect(set.keys).toHaveLength(1)
    expect(set.keys[0]!.d).toBeUndefined()
    const id = await registerPublicClient(as)
    const { access_token } = await obtainTokens(as, id)
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(set as never), {
      issuer: ISSUER,
      audience: RESOURCE,
      typ: 'at+jwt',
      currentDate: new Date(Date.UTC(2026, 0, 1)),
    })
    expect(payload.client_id).toBe(id)
    // The private half is kept encrypted by the store, never as a plain JWK.
    const key = (await store.signingKeys.list())[0]!
    expect(key.private_jwk.d).toBeDefined()
    expect(memoryStoreSnapshot(store)).not.toContain(key.private_jwk.d!)
  })

  it('rotates: the new key is published before it signs, and the old one stays until its tokens expire', async () => {
    const { as, clock } = await createTestServer({ keyCacheMs: 1 })
    const id = await registerPublicClient(as)
    const before = await obtainTokens(as, id)
    const oldKid = decodeProtectedHeader(before.access_token).kid
    const { kid, activates_at } = await as.rotateKeys({ activateAfterMs: 600_000 })
    expect((await jwks(as)).keys.map((k) => k.kid).sort()).toEqual([oldKid, kid].sort())
    const during = await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: before.refresh_token,
      client_id: id,
    })
    const duringBody = (await during.json()) as { access_token: string; refresh_token: string }
    expect(decodeProtectedHeader(duringBody.access_token).kid).toBe(oldKid)
    clock.now = activates_at + 1
    const after = (await (
      await postForm(as, '/token', {
        grant_type: 'refresh_token',
        refresh_token: duringBody.refresh_token,
        client_id: id,
      })
    ).json()) as {
      access_token: string
    }
    expect(decodeProtectedHeader(after.access_token).kid).toBe(kid)
    expect((await jwks(as)).keys.map((k) => k.kid)).toContain(oldKid)
    clock.advance(3_600_000 + 61_000)
    expect((await jwks(as)).keys.map((k) => k.kid)).toEqual([kid])
  })

  it('rotateSigningKeys works on the store alone: a running server publishes the key, then signs with it', async () => {
    const { as, store, clock } = await createTestServer({ keyCacheMs: 1 })
    await as.ready()
    const [old] = (await jwks(as)).keys
    const { kid, activates_at } = await rotateSigningKeys(store, {
      activateAfterMs: 600_000,
      accessTokenLifetime: 120,
      now: clock.now,
    })
    expect(activates_at).toBe(clock.now + 600_000)
    clock.advance(2)
    expect((await jwks(as)).keys.map((k) => k.kid).sort()).toEqual([old!.kid, kid].sort())
    const retired = (await store.signingKeys.list()).find((k) => k.kid === old!.kid)!
    // Published until the last token the old key can sign has expired, plus a minute.
    expect(retired.retires_at).toBe(activates_at + 120_000 + 60_000)
    clock.now = activates_at + 1
    const id = await registerPublicClient(as)
    const { access_token } = await obtainTokens(as, id)
    expect(decodeProtectedHeader(access_token).kid).toBe(kid)
    await expect(rotateSigningKeys(store, { accessTokenLifetime: 0 })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    })
  })

  it('retireCurrent stops publishing the old key at once', async () => {
    const { as } = await createTestServer({ keyCacheMs: 1 })
    await as.ready()
    const [old] = (await jwks(as)).keys
    const { kid } = await as.rotateKeys({ retireCurrent: true })
    expect((await jwks(as)).keys.map((k) => k.kid)).toEqual([kid])
    expect(kid).not.toBe(old!.kid)
  })

  it('replicas sharing a store publish and sign with the same key', async () => {
    const { as, store, clock } = await createTestServer()
    const replica = createAuthorizationServer({
      issuer: ISSUER,
      store,
      resources: [{ uri: RESOURCE, scopes: { 'mcp:tools': 'Tools' } }],
      login: { currentUser: async () => ({ subject: 'u' }) },
      cookieSecret: COOKIE_SECRET,
      clock: () => clock.now,
      onAudit: () => {},
    })
    await as.ready()
    expect(await jwks(replica)).toEqual(await jwks(as))
    // A token signed by one replica is recognised by the other (introspection).
    await as.registerClient({
      client_id: 'rs',
      client_secret: 'resource-server-secret-0123',
      grant_types: ['client_credentials'],
      token_endpoint_auth_method: 'client_secret_post',
    })
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    const r = await postForm(replica, '/introspect', {
      token: tokens.access_token,
      client_id: 'rs',
      client_secret: 'resource-server-secret-0123',
    })
    expect(((await r.json()) as { active: boolean }).active).toBe(true)
  })

  it('does not accept a token signed by a foreign key with a known kid', async () => {
    const { as } = await createTestServer({
      clients: [
        {
          client_id: 'rs',
          client_secret: 'resource-server-secret-0123',
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_post',
        },
      ],
    })
    const id = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    const header = decodeProtectedHeader(tokens.access_token)
    const { privateKey } = await generateKeyPair('ES256')
    const forged = await new SignJWT(
      JSON.parse(atob(tokens.access_token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))),
    )
      .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', kid: header.kid! })
      .sign(privateKey)
    const r = await postForm(as, '/introspect', {
      token: forged,
      client_id: 'rs',
      client_secret: 'resource-server-secret-0123',
    })
    expect(await r.json()).toEqual({ active: false })
  })
})
