import { describe, expect, it } from 'vitest'
import { jwtVerifier, ResourceServerError, TokenVerificationError } from '../../src/resource-server/index.js'
import { createSigner, ISSUER, startJsonServer } from './support.js'

const RESOURCE = 'https://mcp.example.com/mcp'
const signer = await createSigner()

describe('jwtVerifier', () => {
  it('finds jwks_uri through the issuer metadata (RFC 8414), fetching it once', async () => {
    const routes = new Map()
    const as = await startJsonServer(routes)
    routes.set('/.well-known/oauth-authorization-server', () => ({
      json: { issuer: as.origin, jwks_uri: `${as.origin}/keys`, response_types_supported: ['code'] },
    }))
    routes.set('/keys', () => ({ json: signer.jwks }))
    try {
      const verifier = jwtVerifier({ issuer: as.origin, audience: RESOURCE })
      for (let i = 0; i < 3; i++) {
        const verified = await verifier.verify(await signer.sign({ iss: as.origin, aud: RESOURCE }))
        expect(verified.issuer).toBe(as.origin)
      }
      expect(as.hits.get('/.well-known/oauth-authorization-server')).toBe(1)
      expect(as.hits.get('/keys')).toBe(1)
    } finally {
      await as.close()
    }
  })

  it('falls back to OpenID Connect discovery', async () => {
    const routes = new Map()
    const as = await startJsonServer(routes)
    routes.set('/.well-known/openid-configuration', () => ({
      json: { issuer: as.origin, jwks_uri: `${as.origin}/keys`, response_types_supported: ['code'] },
    }))
    routes.set('/keys', () => ({ json: signer.jwks }))
    try {
      const verifier = jwtVerifier({ issuer: as.origin, audience: RESOURCE })
      await expect(
        verifier.verify(await signer.sign({ iss: as.origin, aud: RESOURCE })),
      ).resolves.toMatchObject({
        clientId: 'client-1',
      })
    } finally {
      await as.close()
    }
  })

  it('accepts application/at+jwt, and JWT only when allowed', async () => {
    const strict = jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks })
    const lax = jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks, allowJwtTyp: true })
    await expect(
      strict.verify(await signer.sign({ aud: RESOURCE }, { typ: 'application/at+jwt' })),
    ).resolves.toBeDefined()
    const plain = await signer.sign({ aud: RESOURCE }, { typ: 'JWT' })
    await expect(strict.verify(plain)).rejects.toBeInstanceOf(TokenVerificationError)
    await expect(lax.verify(plain)).resolves.toBeDefined()
  })

  it('matches the audience in canonical form and reads aud lists', async () => {
    const verifier = jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks })
    const v = await verifier.verify(
      await signer.sign({ aud: ['https://other.example', 'HTTPS://MCP.EXAMPLE.COM:443/mcp'] }),
    )
    expect(v.audience).toEqual(['https://other.example', 'HTTPS://MCP.EXAMPLE.COM:443/mcp'])
  })

  it('honours the clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000)
    const token = await signer.sign({ aud: RESOURCE, exp: now - 3 })
    await expect(
      jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks }).verify(token),
    ).resolves.toBeDefined()
    await expect(
      jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks, clockToleranceSeconds: 0 }).verify(
        token,
      ),
    ).rejects.toMatchObject({ code: 'ERR_EXPIRED' })
  })

  it('requires client_id (or azp) and a well-formed scope', async () => {
    const verifier = jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks })
    await expect(
      verifier.verify(await signer.sign({ aud: RESOURCE, client_id: null })),
    ).rejects.toMatchObject({ code: 'ERR_MALFORMED' })
    await expect(
      verifier.verify(await signer.sign({ aud: RESOURCE, client_id: null, azp: 'x' })),
    ).resolves.toMatchObject({ clientId: 'x' })
    await expect(verifier.verify(await signer.sign({ aud: RESOURCE, scope: 7 }))).rejects.toMatchObject({
      code: 'ERR_MALFORMED',
    })
    await expect(
      verifier.verify(await signer.sign({ aud: RESOURCE, scope: null, scp: ['a', 'b'] })),
    ).resolves.toMatchObject({
      scopes: ['a', 'b'],
    })
    await expect(verifier.verify('not.a.jwt')).rejects.toMatchObject({ code: 'ERR_MALFORMED' })
  })

  it('refuses contradictory or insecure options', () => {
    expect(() =>
      jwtVerifier({
        issuer: ISSUER,
        audience: RESOURCE,
        jwks: signer.jwks,
        jwksUri: 'https://as.example.com/jwks',
      }),
    ).toThrow(ResourceServerError)
    expect(() =>
      jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwksUri: 'http://as.example.com/jwks' }),
    ).toThrow(ResourceServerError)
    expect(() => jwtVerifier({ issuer: ISSUER, audience: 'not a url', jwks: signer.jwks })).toThrow(
      ResourceServerError,
    )
    expect(() =>
      jwtVerifier({ issuer: ISSUER, audience: RESOURCE, jwks: signer.jwks, algorithms: [] }),
    ).toThrow(ResourceServerError)
  })

  it('reports an unreachable JWKS as unavailable, without hammering it', async () => {
    let calls = 0
    const verifier = jwtVerifier({
      issuer: ISSUER,
      audience: RESOURCE,
      jwksUri: 'https://as.example.com/jwks',
      fetch: async () => {
        calls++
        return new Response('nope', { status: 500 })
      },
    })
    const token = await signer.sign({ aud: RESOURCE })
    for (let i = 0; i < 5; i++)
      await expect(verifier.verify(token)).rejects.toMatchObject({ code: 'ERR_JWKS_UNAVAILABLE' })
    expect(calls).toBe(1)
  })
})
