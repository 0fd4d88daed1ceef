/**
 * The Node wiring of the authorization server: `node:crypto` signing and random tokens, the
 * buffered request and response path of its `node:http` listener, over the SQLite store.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
} from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { type AuthorizationServer, localAccounts } from '../../src/authorization-server/index.js'
import type { ActiveSigningKey } from '../../src/authorization-server/keys.js'
import { webJwtSigner } from '../../src/authorization-server/tokens.js'
import {
  createNodeAuthorizationServer,
  createNodeJwtSigner,
  type NodeAuthorizationServerOptions,
  pooledRandomToken,
} from '../../src/node/authorization-server.js'
import { randomToken } from '../../src/protocol/random.js'
import { createSqliteStore } from '../../src/storage/sql/sqlite.js'
import type { Store } from '../../src/storage/types.js'
import { COOKIE_SECRET, ISSUER, obtainTokens, postForm, RESOURCE, registerPublicClient } from './support.js'

async function signingKey(): Promise<ActiveSigningKey> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  const privateJwk = { ...(await exportJWK(privateKey)), kid: 'k1', alg: 'ES256' } as JsonWebKey
  return { kid: 'k1', alg: 'ES256', key: privateKey as CryptoKey, privateJwk }
}

describe('createNodeJwtSigner', () => {
  it('signs ES256 JWS that jose verifies, with the same header and claims as the Web Crypto signer', async () => {
    const key = await signingKey()
    const { d: _d, ...publicJwk } = key.privateJwk
    const verifyWith = await importJWK(publicJwk, 'ES256')
    const header = { alg: 'ES256', typ: 'at+jwt', kid: 'k1' }
    const payload = { iss: ISSUER, sub: 'u', aud: RESOURCE, scope: 'mcp:tools', jti: 'j', iat: 1, exp: 2 }
    const sign = createNodeJwtSigner()
    const byNode = (await sign({ header, payload, key })) as string
    const byWeb = await webJwtSigner({ header, payload, key })
    for (const token of [byNode, byWeb]) {
      const verified = await jwtVerify(token, verifyWith, { typ: 'at+jwt', currentDate: new Date(1500) })
      expect(verified.payload).toEqual(payload)
      expect(verified.protectedHeader).toEqual(header)
    }
    // P-256 signatures in the JWS encoding are R || S, 64 bytes.
    expect(Buffer.from(byNode.split('.')[2]!, 'base64url')).toHaveLength(64)
    // A second token with the key imported once still verifies; a changed claim does not.
    const again = (await sign({ header, payload: { ...payload, jti: 'j2' }, key })) as string
    expect(decodeJwt(again).jti).toBe('j2')
    const [h, , s] = byNode.split('.')
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...payload, scope: 'admin' })).toString('base64url')}.${s}`
    await expect(jwtVerify(forged, verifyWith, { currentDate: new Date(1500) })).rejects.toThrow()
  })

  it('refuses any algorithm but ES256', async () => {
    const key = await signingKey()
    expect(() =>
      createNodeJwtSigner()({ header: { alg: 'HS256', typ: 'at+jwt', kid: 'k1' }, payload: {}, key }),
    ).toThrow(TypeError)
  })
})

describe('pooledRandomToken', () => {
  it('returns base64url tokens of the requested length, never the same twice', () => {
    const seen = new Set<string>()
    for (let i = 0; i < 2000; i++) {
      const token = pooledRandomToken(i % 2 === 0 ? 32 : 16)
      expect(token).toMatch(i % 2 === 0 ? /^[\w-]{43}$/ : /^[\w-]{22}$/)
      seen.add(token)
    }
    expect(seen.size).toBe(2000)
    expect(pooledRandomToken()).toHaveLength(43)
    expect(pooledRandomToken(5000)).toHaveLength(Math.ceil((5000 * 4) / 3))
  })
})

describe('createNodeAuthorizationServer over node:http and SQLite', () => {
  let server: Server | undefined
  let store: Store | undefined
  let dir: string | undefined

  afterEach(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await store?.close()
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
  })

  /** The Node AS on a fresh SQLite file behind `node:http`; `pending()` counts unfinished listener calls. */
  async function serve(
    login: NodeAuthorizationServerOptions['login'],
  ): Promise<{ port: number; pending(): number }> {
    dir = mkdtempSync(join(tmpdir(), 'portcullis-node-as-'))
    store = await createSqliteStore({ filename: join(dir, 'as.db'), encryptionKey: randomToken(32) })
    const as = createNodeAuthorizationServer({
      issuer: ISSUER,
      store,
      resources: [{ uri: RESOURCE, scopes: { 'mcp:tools': 'Use the tools' }, defaultScopes: ['mcp:tools'] }],
      login,
      cookieSecret: COOKIE_SECRET,
      cimd: false,
      onAudit: () => {},
    })
    let pending = 0
    server = createServer(async (req, res) => {
      pending++
      await as.listener(req, res)
      pending--
    })
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
    return { port: (server.address() as AddressInfo).port, pending: () => pending }
  }

  it('registers, exchanges a code and rotates a refresh token; errors and pages still answer', async () => {
    const { port } = await serve(
      localAccounts({
        users: [{ username: 'ada', password: 'correct horse', subject: 'user-ada' }],
        iterations: 1000,
      }),
    )
    // The test helpers speak to `as.fetch`; this one goes over the socket instead.
    const overHttp = {
      async fetch(request: Request) {
        const url = new URL(request.url)
        return fetch(`http://127.0.0.1:${port}${url.pathname}${url.search}`, {
          method: request.method,
          headers: request.headers,
          ...(request.method === 'GET' ? {} : { body: await request.arrayBuffer() }),
          redirect: 'manual',
        })
      },
    } as unknown as AuthorizationServer

    const clientId = await registerPublicClient(overHttp)
    const tokens = await obtainTokens(overHttp, clientId)
    const jwks = (await (await overHttp.fetch(new Request(`${ISSUER}/jwks`))).json()) as never
    const { payload } = await jwtVerify(tokens.access_token, createLocalJWKSet(jwks), {
      issuer: ISSUER,
      audience: RESOURCE,
      typ: 'at+jwt',
    })
    expect(payload).toMatchObject({ sub: 'user-ada', client_id: clientId, scope: 'mcp:tools' })
    expect(decodeProtectedHeader(tokens.access_token).alg).toBe('ES256')

    const refreshed = await postForm(overHttp, '/token', {
      grant_type: 'refresh_token',
      refresh_token: tokens.refresh_token,
      client_id: clientId,
      resource: RESOURCE,
    })
    expect(refreshed.status).toBe(200)
    expect(refreshed.headers.get('cache-control')).toBe('no-store')
    expect(refreshed.headers.get('content-length')).toBe(String((await refreshed.clone().text()).length))
    const rotated = (await refreshed.json()) as { refresh_token: string; access_token: string }
    expect(rotated.refresh_token).not.toBe(tokens.refresh_token)
    await jwtVerify(rotated.access_token, createLocalJWKSet(jwks), { issuer: ISSUER, audience: RESOURCE })

    // Refused preconditions leave the new token usable: wrong resource, then a wider scope.
    const wrongResource = await postForm(overHttp, '/token', {
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
      client_id: clientId,
      resource: 'https://other.example.com/mcp',
    })
    expect(wrongResource.status).toBe(400)
    expect(((await wrongResource.json()) as { error: string }).error).toBe('invalid_target')
    const wider = await postForm(overHttp, '/token', {
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
      client_id: clientId,
      scope: 'mcp:tools mcp:admin',
    })
    expect(((await wider.json()) as { error: string }).error).toBe('invalid_scope')
    const again = await postForm(overHttp, '/token', {
      grant_type: 'refresh_token',
      refresh_token: rotated.refresh_token,
      client_id: clientId,
    })
    expect(again.status).toBe(200)

    // A browser's cross-origin call still gets the CORS headers.
    const fromBrowser = await postForm(
      overHttp,
      '/token',
      { grant_type: 'refresh_token', refresh_token: 'unknown', client_id: clientId },
      { origin: 'https://app.example' },
    )
    expect(fromBrowser.status).toBe(400)
    expect(fromBrowser.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('reads a form body sent in pieces; a request closed before its body arrives leaves nothing waiting', async () => {
    const { port, pending } = await serve({ currentUser: async () => undefined })
    const body = 'grant_type=refresh_token&refresh_token=unknown&client_id=nobody'
    const head = `POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nConnection: close\r\nContent-Length: ${body.length}\r\n\r\n`

    // In three writes, the body split in two: the answer is about the whole form.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1')
      let text = ''
      socket.on('data', (chunk) => {
        text += chunk
      })
      socket.on('end', () => resolve(text))
      socket.on('error', reject)
      socket.write(head)
      setTimeout(() => socket.write(body.slice(0, 20)), 20)
      setTimeout(() => socket.write(body.slice(20)), 40)
    })
    expect(answer).toMatch(/^HTTP\/1\.1 401 /)
    expect(answer).toContain('"error":"invalid_client"')

    // Half the declared body, then the connection goes: no answer, and the listener returns.
    await new Promise<void>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(head + body.slice(0, 10), () => setTimeout(() => socket.destroy(), 20))
      })
      socket.on('close', () => resolve())
    })
    await expect.poll(pending, { timeout: 2000 }).toBe(0)
  })
})
