import { describe, expect, it } from 'vitest'
import {
  introspectionVerifier,
  protectedResource,
  ResourceServerError,
} from '../../src/resource-server/index.js'
import { startJsonServer } from './support.js'

const RESOURCE = 'https://mcp.example.com/mcp'

async function introspectionServer(answer: (token: string) => Record<string, unknown>) {
  const routes = new Map()
  const server = await startJsonServer(routes)
  routes.set('/introspect', (body: string) => ({
    json: answer(new URLSearchParams(body).get('token') ?? ''),
  }))
  routes.set('/.well-known/oauth-authorization-server', () => ({
    json: {
      issuer: server.origin,
      introspection_endpoint: `${server.origin}/introspect`,
      response_types_supported: ['code'],
    },
  }))
  return server
}

describe('introspectionVerifier (RFC 7662)', () => {
  it('authenticates with client_secret_basic and maps the response', async () => {
    const now = Math.floor(Date.now() / 1000)
    const as = await introspectionServer((token) =>
      token === 'good'
        ? {
            active: true,
            client_id: 'c1',
            sub: 'alice',
            scope: 'files:read',
            aud: RESOURCE,
            exp: now + 60,
            iss: 'x',
          }
        : { active: false },
    )
    try {
      const verifier = introspectionVerifier({
        issuer: 'x',
        audience: RESOURCE,
        introspectionEndpoint: `${as.origin}/introspect`,
        clientAuth: { clientId: 'rs:1', clientSecret: 'p@ss word' },
      })
      await expect(verifier.verify('good')).resolves.toMatchObject({
        clientId: 'c1',
        subject: 'alice',
        scopes: ['files:read'],
        audience: [RESOURCE],
        expiresAt: now + 60,
      })
      const last = as.last.get('/introspect')!
      // RFC 6749 §2.3.1: form-urlencoded id and secret, then Basic.
      expect(last.headers.authorization).toBe(`Basic ${Buffer.from('rs%3A1:p%40ss+word').toString('base64')}`)
      expect(new URLSearchParams(last.body).get('token_type_hint')).toBe('access_token')
      await expect(verifier.verify('bad')).rejects.toMatchObject({ code: 'ERR_INACTIVE' })
    } finally {
      await as.close()
    }
  })

  it('remembers inactive tokens for a short while (negative cache)', async () => {
    const as = await introspectionServer(() => ({ active: false }))
    try {
      const verifier = introspectionVerifier({
        issuer: 'x',
        audience: RESOURCE,
        introspectionEndpoint: `${as.origin}/introspect`,
        clientAuth: { clientId: 'rs', clientSecret: 's', method: 'client_secret_post' },
      })
      for (let i = 0; i < 4; i++)
        await expect(verifier.verify('revoked')).rejects.toMatchObject({ code: 'ERR_INACTIVE' })
      expect(as.hits.get('/introspect')).toBe(1)
      expect(new URLSearchParams(as.last.get('/introspect')!.body).get('client_secret')).toBe('s')
    } finally {
      await as.close()
    }
  })

  it('refuses an answer without our audience, from another issuer, or expired', async () => {
    const now = Math.floor(Date.now() / 1000)
    const answers: Record<string, Record<string, unknown>> = {
      noaud: { active: true, client_id: 'c' },
      other: { active: true, client_id: 'c', aud: 'https://other.example/mcp' },
      iss: { active: true, client_id: 'c', aud: RESOURCE, iss: 'https://evil.example' },
      exp: { active: true, client_id: 'c', aud: RESOURCE, exp: now - 60 },
      refresh: { active: true, client_id: 'c', aud: RESOURCE, token_type: 'refresh_token' },
    }
    const as = await introspectionServer((token) => answers[token] ?? { active: false })
    try {
      const verifier = introspectionVerifier({
        issuer: as.origin,
        audience: RESOURCE,
        clientAuth: { bearerToken: 'rs-token' },
      })
      await expect(verifier.verify('noaud')).rejects.toMatchObject({ code: 'ERR_AUDIENCE' })
      await expect(verifier.verify('other')).rejects.toMatchObject({ code: 'ERR_AUDIENCE' })
      await expect(verifier.verify('iss')).rejects.toMatchObject({ code: 'ERR_ISSUER' })
      await expect(verifier.verify('exp')).rejects.toMatchObject({ code: 'ERR_EXPIRED' })
      await expect(verifier.verify('refresh')).rejects.toMatchObject({ code: 'ERR_MALFORMED' })
      // The endpoint came from the AS metadata.
      expect(as.hits.get('/.well-known/oauth-authorization-server')).toBe(1)
      expect(as.last.get('/introspect')!.headers.authorization).toBe('Bearer rs-token')
    } finally {
      await as.close()
    }
  })

  it('keeps positive answers for a short time through protectedResource', async () => {
    const as = await introspectionServer(() => ({ active: true, client_id: 'c', aud: RESOURCE }))
    try {
      let clock = Date.now()
      const rs = protectedResource({
        resource: RESOURCE,
        authorizationServers: [as.origin],
        verifier: introspectionVerifier({
          issuer: as.origin,
          audience: RESOURCE,
          introspectionEndpoint: `${as.origin}/introspect`,
          clientAuth: { clientId: 'rs', clientSecret: 's' },
          positiveCacheSeconds: 10,
        }),
        allowInsecureResource: true,
        now: () => clock,
      })
      const request = () => new Request(RESOURCE, { headers: { authorization: 'Bearer opaque' } })
      await rs.authenticate(request())
      await rs.authenticate(request())
      expect(as.hits.get('/introspect')).toBe(1)
      clock += 11_000
      await rs.authenticate(request())
      expect(as.hits.get('/introspect')).toBe(2)
    } finally {
      await as.close()
    }
  })

  it('answers 503 when the endpoint fails, and requires credentials', async () => {
    const verifier = introspectionVerifier({
      issuer: 'x',
      audience: RESOURCE,
      introspectionEndpoint: 'https://as.example.com/introspect',
      clientAuth: { clientId: 'rs', clientSecret: 's' },
      fetch: async () => new Response('oops', { status: 502 }),
    })
    await expect(verifier.verify('t')).rejects.toMatchObject({ code: 'ERR_INTROSPECTION_UNAVAILABLE' })
    expect(() => introspectionVerifier({ issuer: 'x', audience: RESOURCE } as never)).toThrow(
      ResourceServerError,
    )
  })
})
