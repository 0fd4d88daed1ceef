import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { createTestServer, ISSUER, postForm, RESOURCE } from './support.js'

const IDP = 'https://idp.example.com'
const SECRET = 'jag-client-secret-0123456789abc'
const NOW = Date.UTC(2026, 0, 1)

async function setup() {
  const { privateKey, publicKey } = await generateKeyPair('ES256')
  const server = await createTestServer({
    idJag: {
      issuers: [
        { issuer: IDP, jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'idp1', alg: 'ES256' }] } },
      ],
    },
    clients: [
      {
        client_id: 'jag-client',
        client_secret: SECRET,
        grant_types: ['urn:ietf:params:oauth:grant-type:jwt-bearer'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
  })
  const sign = (claims: Record<string, unknown> = {}, typ = 'oauth-id-jag+jwt') =>
    new SignJWT({
      client_id: 'jag-client',
      resource: RESOURCE,
      scope: 'mcp:tools mcp:read',
      jti: crypto.randomUUID(),
      ...claims,
    })
      .setProtectedHeader({ alg: 'ES256', typ, kid: 'idp1' })
      .setIssuer((claims['iss'] as string | undefined) ?? IDP)
      .setSubject('employee-7')
      .setAudience((claims['aud'] as string | undefined) ?? ISSUER)
      .setIssuedAt(NOW / 1000)
      .setExpirationTime(NOW / 1000 + 300)
      .sign(privateKey)
  const grant = (assertion: string, extra: Record<string, string> = {}) =>
    postForm(server.as, '/token', {
      grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer',
      assertion,
      client_id: 'jag-client',
      client_secret: SECRET,
      ...extra,
    })
  return { ...server, sign, grant }
}

describe('ID-JAG (jwt-bearer grant)', () => {
  it('advertises the grant and profile, and issues an audience-bound token with the scope intersection', async () => {
    const { as, sign, grant } = await setup()
    expect(as.metadata().authorization_grant_profiles_supported).toEqual([
      'urn:ietf:params:oauth:grant-profile:id-jag',
    ])
    const r = await grant(await sign(), { scope: 'mcp:read other:all' })
    expect(r.status).toBe(200)
    const body = (await r.json()) as { access_token: string; scope: string; refresh_token?: string }
    expect(body.scope).toBe('mcp:read')
    expect(body.refresh_token).toBeUndefined()
    expect(decodeJwt(body.access_token)).toMatchObject({
      sub: 'employee-7',
      aud: RESOURCE,
      client_id: 'jag-client',
    })
  })

  it('refuses replay, wrong audience, wrong typ, another client, untrusted issuers and unknown resources', async () => {
    const { sign, grant } = await setup()
    const once = await sign()
    expect((await grant(once)).status).toBe(200)
    const failures = [
      once,
      await sign({ aud: 'https://other-as.example' }),
      await sign({}, 'JWT'),
      await sign({ client_id: 'someone-else' }),
      await sign({ iss: 'https://evil-idp.example' }),
      await sign({ resource: 'https://evil.example/mcp' }),
      'not.a.jwt',
    ]
    for (const assertion of failures) {
      const r = await grant(assertion)
      expect(r.status).toBe(400)
      expect(((await r.json()) as { error: string }).error).toBe('invalid_grant')
    }
  })
})
