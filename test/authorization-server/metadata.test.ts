import { describe, expect, it } from 'vitest'
import { createTestServer, ISSUER } from './support.js'

describe('authorization server metadata', () => {
  it('serves RFC 8414 and OIDC discovery for a root issuer with exactly the advertised fields', async () => {
    const { as } = await createTestServer()
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const r = await as.fetch(new Request(`${ISSUER}${path}`))
      expect(r.status).toBe(200)
      expect(r.headers.get('content-type')).toMatch(/^application\/json/)
      expect(r.headers.get('access-control-allow-origin')).toBe('*')
      const m = (await r.json()) as Record<string, unknown>
      expect(m).toEqual({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
        jwks_uri: `${ISSUER}/jwks`,
        registration_endpoint: `${ISSUER}/register`,
        scopes_supported: ['mcp:tools', 'mcp:read', 'other:all'],
        response_types_supported: ['code'],
        response_modes_supported: ['query'],
        grant_types_supported: ['authorization_code', 'refresh_token', 'client_credentials'],
        token_endpoint_auth_methods_supported: [
          'none',
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
        ],
        token_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['ES256', 'RS256']),
        revocation_endpoint: `${ISSUER}/revoke`,
        revocation_endpoint_auth_methods_supported: [
          'none',
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
        ],
        revocation_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['ES256']),
        introspection_endpoint: `${ISSUER}/introspect`,
        introspection_endpoint_auth_methods_supported: [
          'client_secret_basic',
          'client_secret_post',
          'private_key_jwt',
        ],
        introspection_endpoint_auth_signing_alg_values_supported: expect.arrayContaining(['ES256']),
        code_challenge_methods_supported: ['S256'],
        authorization_response_iss_parameter_supported: true,
        client_id_metadata_document_supported: false,
      })
    }
  })

  it('derives every endpoint and all three discovery paths from a path issuer, issuer kept verbatim', async () => {
    const issuer = 'https://idp.example.com/tenant/a'
    const { as } = await createTestServer({
      issuer,
      registration: { mode: 'closed' },
      cimd: { fetch: async () => new Response('{}') },
    })
    for (const path of [
      '/.well-known/oauth-authorization-server/tenant/a',
      '/.well-known/openid-configuration/tenant/a',
      '/tenant/a/.well-known/openid-configuration',
    ]) {
      const m = (await (await as.fetch(new Request(`https://idp.example.com${path}`))).json()) as Record<
        string,
        unknown
      >
      expect(m['issuer']).toBe(issuer)
      expect(m['token_endpoint']).toBe(`${issuer}/token`)
      expect(m['registration_endpoint']).toBeUndefined()
      expect(m['client_id_metadata_document_supported']).toBe(true)
    }
    expect(
      (await as.fetch(new Request('https://idp.example.com/.well-known/oauth-authorization-server'))).status,
    ).toBe(404)
    expect((await as.fetch(new Request(`${issuer}/register`, { method: 'POST' }))).status).toBe(404)
  })

  it('keeps a trailing-slash issuer exactly as configured', async () => {
    const issuer = 'http://127.0.0.1:3001/'
    const { as } = await createTestServer({ issuer })
    const m = (await (
      await as.fetch(new Request('http://127.0.0.1:3001/.well-known/oauth-authorization-server'))
    ).json()) as Record<string, unknown>
    expect(m['issuer']).toBe(issuer)
    expect(m['authorization_endpoint']).toBe('http://127.0.0.1:3001/authorize')
  })

  it('answers CORS preflight on the token endpoint', async () => {
    const { as } = await createTestServer()
    const r = await as.fetch(
      new Request(`${ISSUER}/token`, {
        method: 'OPTIONS',
        headers: { origin: 'https://app.example', 'access-control-request-method': 'POST' },
      }),
    )
    expect(r.status).toBe(204)
    expect(r.headers.get('access-control-allow-origin')).toBe('*')
  })

  it('answers the CORS preflight of a metadata GET that carries MCP-Protocol-Version', async () => {
    const { as } = await createTestServer()
    for (const path of ['/.well-known/oauth-authorization-server', '/.well-known/openid-configuration']) {
      const r = await as.fetch(
        new Request(`${ISSUER}${path}`, {
          method: 'OPTIONS',
          headers: {
            origin: 'https://app.example',
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'mcp-protocol-version',
          },
        }),
      )
      expect(r.status).toBe(204)
      expect(r.headers.get('access-control-allow-origin')).toBe('*')
      const allowed = (r.headers.get('access-control-allow-headers') ?? '').toLowerCase().split(/\s*,\s*/)
      expect(allowed).toContain('mcp-protocol-version')
      // The documents are public and read without credentials: no Authorization to allow.
      expect(allowed).not.toContain('authorization')
      expect(r.headers.get('access-control-allow-methods')).toContain('GET')
    }
  })
})
