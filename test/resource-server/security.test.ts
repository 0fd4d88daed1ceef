/**
 * Attacks on the resource server, each named after the attack: the malicious request is sent
 * and the test proves it is refused, and how.
 */

import { request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import { serve } from '@hono/node-server'
import express from 'express'
import { Hono } from 'hono'
import { exportSPKI, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { expressAuth } from '../../src/node/adapters/express.js'
import { NetworkPolicyError } from '../../src/node/errors.js'
import { honoNodeHead, jwtVerifier as nodeJwtVerifier } from '../../src/node/resource-server.js'
import { base64url, utf8 } from '../../src/protocol/random.js'
import { findBearerChallenge, parseWwwAuthenticate } from '../../src/protocol/www-authenticate.js'
import {
  type AuthInfo,
  honoAuth,
  jwtVerifier,
  protectedResource,
  type RejectEvent,
  ResourceServerError,
  type ScopePolicy,
  type Verifier,
} from '../../src/resource-server/index.js'
import { TOKEN_KEY_TAIL } from '../../src/resource-server/token-cache.js'
import { createSigner, ISSUER, startJsonServer, toolCall } from './support.js'

const RESOURCE = 'https://mcp.example.com/mcp'
const signer = await createSigner()
const policy: ScopePolicy = {
  default: ['files:read'],
  tools: { delete_file: ['files:write'] },
  hierarchy: { 'files:write': ['files:read'] },
}

function guard(verifier?: Verifier) {
  const events: RejectEvent[] = []
  const rs = protectedResource({
    resource: RESOURCE,
    authorizationServers: [ISSUER],
    verifier: verifier ?? jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks }),
    scopes: policy,
    onReject: (event) => events.push(event),
  })
  return { rs, events }
}

function post(token: string | undefined, body: unknown = toolCall('read_file'), headers: HeadersInit = {}) {
  const h = new Headers(headers)
  h.set('content-type', 'application/json')
  if (token !== undefined) h.set('authorization', `Bearer ${token}`)
  return new Request(RESOURCE, { method: 'POST', headers: h, body: JSON.stringify(body) })
}

async function refusedWith(token: string, code: string) {
  const { rs, events } = guard()
  const response = await rs.authenticate(post(token))
  expect(response).toBeInstanceOf(Response)
  const res = response as Response
  expect(res.status).toBe(401)
  const header = res.headers.get('www-authenticate')!
  expect(header).not.toContain(token)
  const challenge = findBearerChallenge(parseWwwAuthenticate(header))
  expect(challenge?.error).toBe('invalid_token')
  expect(challenge?.resource_metadata).toBe(
    'https://mcp.example.com/.well-known/oauth-protected-resource/mcp',
  )
  // Generic wording: never which check failed.
  expect(challenge?.error_description).toBe('The access token is invalid')
  expect(events.at(-1)?.error?.code).toBe(code)
}

describe('security: tokens', () => {
  it('token passthrough: a token minted for another resource is refused', async () => {
    await refusedWith(await signer.sign({ aud: 'https://other.example.com/mcp' }), 'ERR_AUDIENCE')
    await refusedWith(await signer.sign({ aud: 'https://mcp.example.com/mcp2' }), 'ERR_AUDIENCE')
    await refusedWith(await signer.sign({ aud: 'https://mcp.example.com/mcp/other' }), 'ERR_AUDIENCE')
    await refusedWith(
      await signer.sign({ aud: ['https://other.example.com', 'https://mcp.example.com'] }),
      'ERR_AUDIENCE',
    )
    await refusedWith(await signer.sign({ aud: null }), 'ERR_AUDIENCE')
  })

  it('token passthrough: a custom verifier that ignores the audience cannot let a foreign token in', async () => {
    const lax: Verifier = {
      verify: async () => ({
        clientId: 'c',
        scopes: ['files:read'],
        audience: ['https://other.example.com/mcp'],
        issuer: ISSUER,
        claims: {},
      }),
    }
    const { rs, events } = guard(lax)
    const response = (await rs.authenticate(post('opaque-token'))) as Response
    expect(response.status).toBe(401)
    expect(events[0]?.error?.code).toBe('ERR_AUDIENCE')
  })

  it('an audience check cannot be skipped: construction fails without an audience or resource', () => {
    expect(() => jwtVerifier({ issuer: ISSUER, jwks: signer.jwks } as never)).toThrow(ResourceServerError)
    expect(() => jwtVerifier({ audience: RESOURCE, jwks: signer.jwks } as never)).toThrow(ResourceServerError)
    expect(() =>
      protectedResource({
        authorizationServers: [ISSUER],
        verifier: jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks }),
      } as never),
    ).toThrow(ResourceServerError)
  })

  it('alg none: an unsigned token is refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    const header = base64url(utf8(JSON.stringify({ alg: 'none', typ: 'at+jwt' })))
    const payload = base64url(
      utf8(
        JSON.stringify({
          iss: ISSUER,
          aud: RESOURCE,
          sub: 'mallory',
          client_id: 'c',
          scope: 'files:read',
          exp: now + 600,
          iat: now,
        }),
      ),
    )
    await refusedWith(`${header}.${payload}.`, 'ERR_ALGORITHM')
  })

  it('algorithm confusion: HS256 signed with the public key bytes is refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    const claims = {
      iss: ISSUER,
      aud: RESOURCE,
      sub: 'mallory',
      client_id: 'c',
      scope: 'files:write',
      exp: now + 600,
      iat: now,
    }
    for (const secret of [utf8(await exportSPKI(signer.publicKey)), utf8(JSON.stringify(signer.jwk))]) {
      const forged = await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: signer.kid })
        .sign(secret)
      await refusedWith(forged, 'ERR_ALGORITHM')
    }
    expect(() =>
      jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks, algorithms: ['HS256'] }),
    ).toThrow(ResourceServerError)
    expect(() =>
      jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks, algorithms: ['none'] }),
    ).toThrow(ResourceServerError)
  })

  it('a token signed by an unknown key with a known kid is refused (signature)', async () => {
    const other = await createSigner(signer.kid)
    await refusedWith(await other.sign({ aud: RESOURCE }), 'ERR_SIGNATURE')
  })

  it('expired: a token past exp (beyond the clock tolerance) is refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    await refusedWith(await signer.sign({ aud: RESOURCE, iat: now - 700, exp: now - 10 }), 'ERR_EXPIRED')
  })

  it('not yet valid: nbf or iat in the future is refused', async () => {
    const now = Math.floor(Date.now() / 1000)
    await refusedWith(await signer.sign({ aud: RESOURCE, nbf: now + 120 }), 'ERR_NOT_YET_VALID')
    await refusedWith(await signer.sign({ aud: RESOURCE, iat: now + 120 }), 'ERR_NOT_YET_VALID')
  })

  it('wrong issuer: a token from another issuer is refused', async () => {
    await refusedWith(await signer.sign({ aud: RESOURCE, iss: 'https://evil.example.com' }), 'ERR_ISSUER')
  })

  it('no exp: a token that never expires is refused', async () => {
    await refusedWith(await signer.sign({ aud: RESOURCE, exp: null }), 'ERR_MISSING_EXP')
  })

  it('wrong typ: an ID token (typ JWT) is not an access token', async () => {
    await refusedWith(await signer.sign({ aud: RESOURCE }, { typ: 'JWT' }), 'ERR_MALFORMED')
  })

  it("cache key collision: a forged token with a cached token's length and tail is verified, not taken for it", async () => {
    const inner = jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks })
    let verifications = 0
    const { rs, events } = guard({
      verify: (token) => {
        verifications++
        return inner.verify(token)
      },
    })
    const token = await signer.sign({ aud: RESOURCE, sub: 'alice' })
    expect(await rs.authenticate(post(token))).not.toBeInstanceOf(Response)
    // One character of the payload changed: same length, same last TOKEN_KEY_TAIL characters
    // (the signature), so the same cache key under any seed.
    const at = token.indexOf('.') + 8
    const forged = `${token.slice(0, at)}${token[at] === 'A' ? 'B' : 'A'}${token.slice(at + 1)}`
    expect(forged).toHaveLength(token.length)
    expect(forged.slice(-TOKEN_KEY_TAIL)).toBe(token.slice(-TOKEN_KEY_TAIL))
    const response = (await rs.authenticate(post(forged))) as Response
    expect(response.status).toBe(401)
    expect(events.at(-1)?.error?.code).toBe('ERR_SIGNATURE')
    expect(verifications).toBe(2)
    // The genuine token's entry is untouched: still served from the cache.
    const again = (await rs.authenticate(post(token))) as AuthInfo
    expect(again.subject).toBe('alice')
    expect(again.token).toBe(token)
    expect(verifications).toBe(2)
  })

  it('unknown kid: one JWKS refetch, then at most one per interval however many kids are invented', async () => {
    const rotated = await createSigner('rotated')
    let keys = signer.jwks
    const jwksServer = await startJsonServer(new Map([['/jwks', () => ({ json: keys })]]))
    let clock = Date.now()
    try {
      const { rs, events } = guard(
        jwtVerifier({
          issuer: ISSUER,
          audience: RESOURCE,
          jwksUri: `${jwksServer.origin}/jwks`,
          jwksRefetchIntervalSeconds: 30,
          now: () => clock,
        }),
      )
      expect(await rs.authenticate(post(await signer.sign({ aud: RESOURCE })))).not.toBeInstanceOf(Response)
      expect(jwksServer.hits.get('/jwks')).toBe(1)

      // A flood of invented kids inside the interval: refused without fetching again.
      for (let i = 0; i < 20; i++) {
        const forged = await rotated.sign({ aud: RESOURCE, jti: `x${i}` }, { kid: `invented-${i}` })
        expect(((await rs.authenticate(post(forged))) as Response).status).toBe(401)
      }
      expect(jwksServer.hits.get('/jwks')).toBe(1)
      expect(events.at(-1)?.error?.code).toBe('ERR_UNKNOWN_KEY')

      // After the interval the AS has rotated: one refetch finds the new key.
      clock += 31_000
      keys = { keys: [signer.jwk, rotated.jwk] }
      const fresh = await rotated.sign({ aud: RESOURCE })
      const auth = await rs.authenticate(post(fresh))
      expect(auth).not.toBeInstanceOf(Response)
      expect(jwksServer.hits.get('/jwks')).toBe(2)

      // And right after, another unknown kid does not trigger a third fetch.
      const again = await rotated.sign({ aud: RESOURCE }, { kid: 'still-unknown' })
      expect(((await rs.authenticate(post(again))) as Response).status).toBe(401)
      expect(jwksServer.hits.get('/jwks')).toBe(2)
    } finally {
      await jwksServer.close()
    }
  })

  it('SSRF: a JWKS URL pointing at a private address is refused before any connection', async () => {
    const connections: string[] = []
    const lookups: string[] = []
    const verifier = nodeJwtVerifier({
      issuer: ISSUER,
      audience: RESOURCE,
      jwksUri: 'https://keys.internal.example/jwks',
      safeFetch: {
        lookup: async (hostname) => {
          lookups.push(hostname)
          return [{ address: '10.0.0.7', family: 4 }]
        },
        connect: (target) => {
          connections.push(target.host)
          throw new Error('must not connect')
        },
      },
    })
    const token = await signer.sign({ aud: RESOURCE })
    const error = await verifier.verify(token).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE' })
    expect((error as Error).cause).toBeInstanceOf(NetworkPolicyError)
    expect(((error as Error).cause as NetworkPolicyError).code).toBe('ERR_ADDRESS_NOT_ALLOWED')
    expect(lookups).toEqual(['keys.internal.example'])
    expect(connections).toEqual([])

    // The link-local metadata address, literally: refused without even a lookup.
    const metadataVerifier = nodeJwtVerifier({
      issuer: ISSUER,
      audience: RESOURCE,
      jwksUri: 'https://169.254.169.254/latest/jwks',
      safeFetch: {
        connect: () => {
          throw new Error('must not connect')
        },
      },
    })
    const { rs, events } = guard(metadataVerifier)
    const response = (await rs.authenticate(post(token))) as Response
    expect(response.status).toBe(503)
    expect(events[0]?.error?.code).toBe('ERR_JWKS_UNAVAILABLE')
  })

  it('SSRF: AS metadata naming another issuer is not used to find keys', async () => {
    let served = false
    const as = await startJsonServer(
      new Map([
        [
          '/.well-known/oauth-authorization-server',
          () => {
            served = true
            return {
              json: {
                issuer: 'https://honest.example.com',
                jwks_uri: 'http://127.0.0.1:1/jwks',
                response_types_supported: ['code'],
              },
            }
          },
        ],
      ]),
    )
    try {
      const verifier = jwtVerifier({ issuer: as.origin, audience: RESOURCE })
      const token = await signer.sign({ aud: RESOURCE, iss: as.origin })
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE' })
      expect(served).toBe(true)
      expect(as.hits.get('/jwks')).toBeUndefined()
    } finally {
      await as.close()
    }
  })
})

describe('security: requests', () => {
  it('two Authorization headers are refused with 400 invalid_request', async () => {
    const { rs, events } = guard()
    const token = await signer.sign({ aud: RESOURCE })
    const headers = new Headers({ 'content-type': 'application/json' })
    headers.append('authorization', `Bearer ${token}`)
    headers.append('authorization', 'Bearer other')
    const response = (await rs.authenticate(
      new Request(RESOURCE, { method: 'POST', headers, body: '{}' }),
    )) as Response
    expect(response.status).toBe(400)
    expect(findBearerChallenge(parseWwwAuthenticate(response.headers))?.error).toBe('invalid_request')
    expect(events[0]?.detail).toBe('multiple')

    const mixed = new Headers({ authorization: `Basic YTpi, Bearer ${token}` })
    expect(((await rs.authenticate(new Request(RESOURCE, { headers: mixed }))) as Response).status).toBe(400)
  })

  it('two Authorization header lines over real HTTP (Hono, Hono with the Node head, Express) are refused', async () => {
    const { rs } = guard()
    const token = await signer.sign({ aud: RESOURCE })
    const hono = new Hono()
    hono.post('/mcp', honoAuth(rs), (c) => c.text('ok'))
    // Node's req.headers keeps only the first Authorization line; the head must see both.
    hono.post('/node-head/mcp', honoAuth(rs, { head: honoNodeHead }), (c) => c.text('ok'))
    const app = express()
    app.post('/mcp', express.json(), expressAuth(rs), (_req, res) => {
      res.send('ok')
    })
    const honoServer = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => honoServer.once('listening', resolve))
    const expressServer = app.listen(0, '127.0.0.1')
    await new Promise((resolve) => expressServer.once('listening', resolve))
    try {
      for (const server of [honoServer, expressServer]) {
        const { port } = server.address() as AddressInfo
        const send = (authorization: string[], path = '/mcp') =>
          new Promise<number>((resolve, reject) => {
            const req = httpRequest(
              {
                host: '127.0.0.1',
                port,
                path,
                method: 'POST',
                headers: [
                  'host',
                  `127.0.0.1:${port}`,
                  'content-type',
                  'application/json',
                  // The second line's name in another case: one field all the same.
                  ...authorization.flatMap((value, i) => [
                    i === 0 ? 'authorization' : 'Authorization',
                    value,
                  ]),
                ],
              },
              (res) => {
                res.resume()
                resolve(res.statusCode ?? 0)
              },
            )
            req.on('error', reject)
            req.end(JSON.stringify(toolCall('read_file')))
          })
        for (const path of server === honoServer ? ['/mcp', '/node-head/mcp'] : ['/mcp']) {
          expect(await send([`Bearer ${token}`], path)).toBe(200)
          expect(await send([`Bearer ${token}`, `Bearer ${token}`], path)).toBe(400)
          expect(await send(['Bearer forged', `Bearer ${token}`], path)).toBe(400)
        }
      }
    } finally {
      honoServer.close()
      expressServer.close()
    }
  })

  it('the token in the query string is refused, even next to a valid header', async () => {
    const { rs, events } = guard()
    const token = await signer.sign({ aud: RESOURCE })
    const alone = new Request(`${RESOURCE}?access_token=${token}`, { method: 'POST', body: '{}' })
    const r1 = (await rs.authenticate(alone)) as Response
    expect(r1.status).toBe(400)
    expect(await r1.text()).not.toContain(token)
    const both = new Request(`${RESOURCE}?access_token=${token}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}` },
      body: '{}',
    })
    expect(((await rs.authenticate(both)) as Response).status).toBe(400)
    expect(events.map((e) => e.detail)).toEqual(['query', 'query'])
  })

  it('the token in a form body is refused', async () => {
    const { rs, events } = guard()
    const token = await signer.sign({ aud: RESOURCE })
    const request = new Request(RESOURCE, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: token }).toString(),
    })
    expect(((await rs.authenticate(request)) as Response).status).toBe(400)
    expect(events[0]?.detail).toBe('body')
    // The same through an adapter's head, next to a valid (and cached) header token.
    const valid = post(token)
    expect(await rs.authenticate(valid)).not.toBeInstanceOf(Response)
    const form = new Request(RESOURCE, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ access_token: token }).toString(),
    })
    const head = { authorization: `Bearer ${token}`, contentType: 'application/x-www-form-urlencoded' }
    expect(((await rs.authenticate(form, head)) as Response).status).toBe(400)
    expect(events.at(-1)?.detail).toBe('body')
  })

  it('a 100 KB Authorization header is refused without crashing (400 in the core, 431 from Node)', async () => {
    const { rs, events } = guard()
    const huge = `Bearer ${'a'.repeat(100 * 1024)}`
    const response = (await rs.authenticate(
      new Request(RESOURCE, { headers: { authorization: huge } }),
    )) as Response
    expect(response.status).toBe(400)
    expect(events[0]?.detail).toBe('too-large')

    const hono = new Hono()
    hono.post('/mcp', honoAuth(rs), (c) => c.text('ok'))
    const server = serve({ fetch: hono.fetch, port: 0, hostname: '127.0.0.1' })
    await new Promise((resolve) => server.once('listening', resolve))
    try {
      const { port } = server.address() as AddressInfo
      const big = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: { authorization: huge },
        body: '{}',
      })
      expect([400, 431]).toContain(big.status)
      // Still serving afterwards.
      const token = await signer.sign({ aud: RESOURCE })
      const ok = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(toolCall('read_file')),
      })
      expect(ok.status).toBe(200)
    } finally {
      server.close()
    }
  })

  it('a tool call batched behind an allowed one needs the scope of both', async () => {
    const { rs } = guard()
    const token = await signer.sign({ aud: RESOURCE, scope: 'files:read' })
    const batch = [toolCall('read_file', 1), toolCall('delete_file', 2)]
    const response = (await rs.authenticate(post(token, batch))) as Response
    expect(response.status).toBe(403)
    const challenge = findBearerChallenge(parseWwwAuthenticate(response.headers))
    expect(challenge?.error).toBe('insufficient_scope')
    expect(challenge?.scope).toBe('files:read files:write')

    // A JSON body under a content type the policy might not expect is still read.
    const sneaky = new Request(RESOURCE, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'text/plain' },
      body: JSON.stringify(toolCall('delete_file')),
    })
    expect(((await rs.authenticate(sneaky)) as Response).status).toBe(403)
  })

  it('a body too large to inspect is refused rather than guessed at', async () => {
    const rs = protectedResource({
      resource: RESOURCE,
      authorizationServers: [ISSUER],
      verifier: jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks }),
      scopes: policy,
      maxBodyBytes: 1024,
    })
    const token = await signer.sign({ aud: RESOURCE })
    const padded = { ...toolCall('delete_file'), padding: 'x'.repeat(2048) }
    expect(((await rs.authenticate(post(token, padded))) as Response).status).toBe(413)
  })

  it('a malformed bearer credential is 400, another scheme is a plain 401', async () => {
    const { rs } = guard()
    for (const value of ['Bearer', 'Bearer ', 'Bearer  abc', 'Bearer a b', 'Bearer ab"c', 'Bearer\tabc']) {
      const r = (await rs.authenticate(
        new Request(RESOURCE, { headers: { authorization: value } }),
      )) as Response
      expect(r.status, value).toBe(400)
    }
    const basic = (await rs.authenticate(
      new Request(RESOURCE, { headers: { authorization: 'Basic YTpi' } }),
    )) as Response
    expect(basic.status).toBe(401)
    expect(findBearerChallenge(parseWwwAuthenticate(basic.headers))?.error).toBeUndefined()
  })

  it('the AuthInfo a handler gets cannot be altered for the next request', async () => {
    const { rs } = guard()
    const token = await signer.sign({ aud: RESOURCE, scope: 'files:read' })
    const auth = (await rs.authenticate(post(token))) as AuthInfo
    expect(() => (auth.scopes as string[]).push('files:write')).toThrow()
    expect(((await rs.authenticate(post(token, toolCall('delete_file')))) as Response).status).toBe(403)
  })
})
