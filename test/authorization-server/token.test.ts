import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { memoryStoreSnapshot } from '../../src/storage/memory.js'
import {
  authorizeInBrowser,
  authorizeUrl,
  createTestServer,
  ISSUER,
  obtainTokens,
  pkce,
  postForm,
  REDIRECT,
  RESOURCE,
  registerPublicClient,
} from './support.js'

const SECRET = 'machine-secret-0123456789abcdef'

async function keyClient() {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const jwk = { ...(await exportJWK(publicKey)), kty: 'EC', kid: 'k1', alg: 'ES256' }
  return { privateKey, jwks: { keys: [jwk] } }
}

function assertion(
  privateKey: CryptoKey,
  claims: Record<string, unknown> = {},
  alg = 'ES256',
  now = Date.UTC(2026, 0, 1),
) {
  const iat = Math.floor(now / 1000)
  return new SignJWT({ jti: crypto.randomUUID(), ...claims })
    .setProtectedHeader({ alg, kid: 'k1' })
    .setIssuer('jwt-client')
    .setSubject('jwt-client')
    .setAudience((claims['aud'] as string | undefined) ?? `${ISSUER}/token`)
    .setIssuedAt(iat)
    .setExpirationTime(iat + 120)
    .sign(privateKey)
}

async function machineServer() {
  const { privateKey, jwks } = await keyClient()
  const server = await createTestServer({
    clients: [
      {
        client_id: 'basic-client',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
      {
        client_id: 'post-client',
        client_secret: SECRET,
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'client_secret_post',
      },
      {
        client_id: 'jwt-client',
        grant_types: ['client_credentials'],
        token_endpoint_auth_method: 'private_key_jwt',
        jwks,
      },
    ],
  })
  return { ...server, privateKey }
}

const basic = (id: string, secret: string) => ({
  authorization: `Basic ${btoa(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`)}`,
})

async function errorCode(r: Response) {
  return ((await r.json()) as { error: string }).error
}

describe('token endpoint: client authentication', () => {
  it('client_secret_basic and client_secret_post, each only by the registered method', async () => {
    const { as } = await machineServer()
    const ok = await postForm(
      as,
      '/token',
      { grant_type: 'client_credentials', resource: RESOURCE },
      basic('basic-client', SECRET),
    )
    expect(ok.status).toBe(200)
    const body = (await ok.json()) as Record<string, unknown>
    expect(body['refresh_token']).toBeUndefined()
    expect(decodeJwt(body['access_token'] as string)).toMatchObject({
      sub: 'basic-client',
      client_id: 'basic-client',
      aud: RESOURCE,
      scope: 'mcp:tools',
    })
    expect(
      (
        await postForm(
          as,
          '/token',
          { grant_type: 'client_credentials', resource: RESOURCE },
          basic('basic-client', 'nope'),
        )
      ).status,
    ).toBe(401)
    // Registered for Basic, presents the secret in the body: refused.
    expect(
      (
        await postForm(as, '/token', {
          grant_type: 'client_credentials',
          resource: RESOURCE,
          client_id: 'basic-client',
          client_secret: SECRET,
        })
      ).status,
    ).toBe(401)
    expect(
      (
        await postForm(as, '/token', {
          grant_type: 'client_credentials',
          resource: RESOURCE,
          client_id: 'post-client',
          client_secret: SECRET,
        })
      ).status,
    ).toBe(200)
    const both = await postForm(
      as,
      '/token',
      { grant_type: 'client_credentials', client_id: 'post-client', client_secret: SECRET },
      basic('post-client', SECRET),
    )
    expect(both.status).toBe(400)
    expect(await errorCode(both)).toBe('invalid_request')
  })

  it('private_key_jwt per RFC 7523, with jti replay, audience and algorithm checks', async () => {
    const { as, privateKey } = await machineServer()
    const form = (a: string) => ({
      grant_type: 'client_credentials',
      resource: RESOURCE,
      scope: 'mcp:read',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: a,
    })
    const good = await assertion(privateKey)
    const r = await postForm(as, '/token', form(good))
    expect(r.status).toBe(200)
    expect(((await r.json()) as { scope: string }).scope).toBe('mcp:read')
    // RFC 7523 §3: the same jti is refused.
    expect((await postForm(as, '/token', form(good))).status).toBe(401)
    expect(
      (await postForm(as, '/token', form(await assertion(privateKey, { aud: 'https://elsewhere.example' }))))
        .status,
    ).toBe(401)
    const { privateKey: stranger } = await generateKeyPair('ES256')
    expect((await postForm(as, '/token', form(await assertion(stranger)))).status).toBe(401)
    const hmac = new TextEncoder().encode('a'.repeat(32))
    const hs = await new SignJWT({ jti: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('jwt-client')
      .setSubject('jwt-client')
      .setAudience(ISSUER)
      .setExpirationTime('1h')
      .sign(hmac)
    expect((await postForm(as, '/token', form(hs))).status).toBe(401)
    // The issuer identifier is also an accepted audience.
    expect((await postForm(as, '/token', form(await assertion(privateKey, { aud: ISSUER })))).status).toBe(
      200,
    )
  })

  it('refuses client_credentials for public clients and unknown grant types', async () => {
    const { as } = await createTestServer()
    const id = await registerPublicClient(as)
    expect(
      await errorCode(
        await postForm(as, '/token', { grant_type: 'client_credentials', client_id: id, resource: RESOURCE }),
      ),
    ).toBe('unauthorized_client')
    expect(await errorCode(await postForm(as, '/token', { grant_type: 'password', client_id: id }))).toBe(
      'unsupported_grant_type',
    )
    expect(await errorCode(await postForm(as, '/token', { client_id: id }))).toBe('invalid_request')
    const json = await as.fetch(
      new Request(`${ISSUER}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      }),
    )
    expect(json.status).toBe(400)
    expect(json.headers.get('cache-control')).toBe('no-store')
  })
})

describe('token endpoint: authorization code checks', () => {
  async function code(as: Parameters<typeof authorizeInBrowser>[0], id: string) {
    const { verifier, challenge } = await pkce()
    const { location } = await authorizeInBrowser(
      as,
      authorizeUrl({
        response_type: 'code',
        client_id: id,
        redirect_uri: REDIRECT,
        code_challenge: challenge,
        code_challenge_method: 'S256',
        resource: RESOURCE,
      }),
    )
    return { code: location.searchParams.get('code')!, verifier }
  }

  it('requires the same redirect_uri, and accepts its omission only for a single registered URI', async () => {
    const { as } = await createTestServer()
    const id = await registerPublicClient(as)
    const a = await code(as, id)
    const wrong = await postForm(as, '/token', {
      grant_type: 'authorization_code',
      client_id: id,
      code: a.code,
      code_verifier: a.verifier,
      redirect_uri: 'http://127.0.0.1:1/callback',
    })
    expect(await errorCode(wrong)).toBe('invalid_grant')
    const b = await code(as, id)
    expect(
      (
        await postForm(as, '/token', {
          grant_type: 'authorization_code',
          client_id: id,
          code: b.code,
          code_verifier: b.verifier,
        })
      ).status,
    ).toBe(200)
  })

  it('refuses an expired code and a code of another client without revoking anything', async () => {
    const { as, clock, events } = await createTestServer()
    const id = await registerPublicClient(as)
    const other = await registerPublicClient(as)
    const a = await code(as, id)
    const stolen = await postForm(as, '/token', {
      grant_type: 'authorization_code',
      client_id: other,
      code: a.code,
      code_verifier: a.verifier,
      redirect_uri: REDIRECT,
    })
    expect(await errorCode(stolen)).toBe('invalid_grant')
    const b = await code(as, id)
    clock.advance(61_000)
    const late = await postForm(as, '/token', {
      grant_type: 'authorization_code',
      client_id: id,
      code: b.code,
      code_verifier: b.verifier,
      redirect_uri: REDIRECT,
    })
    expect(await errorCode(late)).toBe('invalid_grant')
    expect(events.some((e) => e.type === 'grant.revoked')).toBe(false)
  })
})

describe('token endpoint: refresh', () => {
  it('refuses up-scoping and another client’s token, and ends with the grant', async () => {
    const { as, store, clock } = await createTestServer({ lifetimes: { grant: 3600 } })
    const id = await registerPublicClient(as)
    const other = await registerPublicClient(as)
    const tokens = await obtainTokens(as, id)
    const before = memoryStoreSnapshot(store)
    expect(
      await errorCode(
        await postForm(as, '/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: id,
          scope: 'mcp:read',
        }),
      ),
    ).toBe('invalid_scope')
    expect(
      await errorCode(
        await postForm(as, '/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: other,
        }),
      ),
    ).toBe('invalid_grant')
    expect(memoryStoreSnapshot(store)).toBe(before)
    clock.advance(3_601_000)
    expect(
      await errorCode(
        await postForm(as, '/token', {
          grant_type: 'refresh_token',
          refresh_token: tokens.refresh_token,
          client_id: id,
        }),
      ),
    ).toBe('invalid_grant')
  })

  it('moves a dynamic client’s idle expiry forward on use', async () => {
    const { as, store, clock } = await createTestServer({ lifetimes: { registrationIdle: 10 * 86_400 } })
    const id = await registerPublicClient(as)
    const first = (await store.clients.get(id, clock.now))!.expires_at!
    const tokens = await obtainTokens(as, id)
    clock.advance(2 * 86_400_000)
    await postForm(as, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: id,
    })
    expect((await store.clients.get(id, clock.now))!.expires_at).toBe(clock.now + 10 * 86_400_000)
    expect(first).toBeLessThan(clock.now + 10 * 86_400_000)
    clock.advance(11 * 86_400_000)
    expect(await store.clients.get(id, clock.now)).toBeUndefined()
  })
})
