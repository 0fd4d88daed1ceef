import { describe, expect, it } from 'vitest'
import {
  type AuthorizationRecord,
  buildAuthorizationRequest,
  type ClientError,
  processAuthorizationCallback,
  type StoredClient,
} from '../../src/client/index.js'
import { computeCodeChallenge } from '../../src/protocol/pkce.js'

const metadata = {
  issuer: 'https://as.example.com',
  authorization_endpoint: 'https://as.example.com/authorize?tenant=1',
  token_endpoint: 'https://as.example.com/token',
  response_types_supported: ['code'],
  code_challenge_methods_supported: ['S256'],
  authorization_response_iss_parameter_supported: true,
}
const client: StoredClient = {
  issuer: metadata.issuer,
  client_id: 'c1',
  token_endpoint_auth_method: 'none',
  source: 'dynamic',
}
const policy = { allowInsecureLoopback: false }

function build(overrides: Partial<Parameters<typeof buildAuthorizationRequest>[0]> = {}) {
  return buildAuthorizationRequest({
    metadata,
    client,
    redirectUri: 'http://127.0.0.1:5555/callback',
    resource: 'https://mcp.example.com',
    scopes: ['a', 'b'],
    policy,
    ...overrides,
  })
}

describe('buildAuthorizationRequest', () => {
  it('sends PKCE S256, state, resource verbatim and scope, keeping the endpoint query', async () => {
    const { url, record } = await build()
    const params = new URL(url).searchParams
    expect(params.get('tenant')).toBe('1')
    expect(params.get('response_type')).toBe('code')
    expect(params.get('client_id')).toBe('c1')
    expect(params.get('code_challenge_method')).toBe('S256')
    expect(params.get('code_challenge')).toBe(await computeCodeChallenge(record.code_verifier))
    expect(params.get('resource')).toBe('https://mcp.example.com')
    expect(params.get('scope')).toBe('a b')
    expect(params.get('state')).toBe(record.state)
    expect(record.issuer).toBe(metadata.issuer)
  })

  it('omits scope when none is chosen', async () => {
    const { url } = await build({ scopes: [] })
    expect(new URL(url).searchParams.has('scope')).toBe(false)
  })

  it('S5: state is random, independent of the verifier, and fresh per request', async () => {
    const records = await Promise.all(Array.from({ length: 20 }, async () => (await build()).record))
    const states = new Set(records.map((r) => r.state))
    const verifiers = new Set(records.map((r) => r.code_verifier))
    expect(states.size).toBe(20)
    expect(verifiers.size).toBe(20)
    for (const r of records) {
      expect(r.state).not.toBe(r.code_verifier)
      expect(r.code_verifier).not.toContain(r.state)
      expect(r.state.length).toBeGreaterThanOrEqual(43)
    }
  })

  it.each(['javascript:alert(1)', 'file:///etc/passwd', 'http://as.example.com/authorize'])(
    'refuses the authorization endpoint %s',
    async (endpoint) => {
      await expect(
        build({ metadata: { ...metadata, authorization_endpoint: endpoint } }),
      ).rejects.toMatchObject({
        code: 'ERR_INSECURE_URL',
      })
    },
  )
})

describe('processAuthorizationCallback (RFC 9207 §2.4 decision table)', () => {
  async function record(issSupported: boolean): Promise<AuthorizationRecord> {
    const { record } = await build({
      metadata: { ...metadata, authorization_response_iss_parameter_supported: issSupported },
    })
    return record
  }
  const params = (r: AuthorizationRecord, extra: Record<string, string>) =>
    new URLSearchParams({ state: r.state, code: 'the-code', ...extra })

  it('advertised and matching: accepted', async () => {
    const r = await record(true)
    expect(await processAuthorizationCallback(r, params(r, { iss: metadata.issuer }))).toBe('the-code')
  })

  it('advertised and absent: refused', async () => {
    const r = await record(true)
    await expect(processAuthorizationCallback(r, params(r, {}))).rejects.toMatchObject({
      code: 'ERR_ISS_MISMATCH',
    })
  })

  it('not advertised and absent: accepted', async () => {
    const r = await record(false)
    expect(await processAuthorizationCallback(r, params(r, {}))).toBe('the-code')
  })

  it.each([
    'https://evil.example.com',
    'https://as.example.com/',
    'https://AS.example.com',
    'https://as.example.com:443',
    'https://as.example.com%2F',
  ])('present and different (%s), advertised or not: refused with no normalization', async (iss) => {
    for (const supported of [true, false]) {
      const r = await record(supported)
      await expect(processAuthorizationCallback(r, params(r, { iss }))).rejects.toMatchObject({
        code: 'ERR_ISS_MISMATCH',
      })
    }
  })

  it('mix-up: an error response from another issuer is refused as a mismatch, its error never surfaced', async () => {
    const r = await record(false)
    const error = (await processAuthorizationCallback(
      r,
      new URLSearchParams({ state: r.state, iss: 'https://evil.example.com', error: 'access_denied' }),
    ).catch((e: unknown) => e)) as ClientError
    expect(error.code).toBe('ERR_ISS_MISMATCH')
    expect(error.oauthError).toBeUndefined()
  })

  it('an error from the right issuer is reported after the checks, without its description', async () => {
    const r = await record(true)
    const error = (await processAuthorizationCallback(
      r,
      new URLSearchParams({
        state: r.state,
        iss: metadata.issuer,
        error: 'access_denied',
        error_description: '<script>x</script>',
      }),
    ).catch((e: unknown) => e)) as ClientError
    expect(error.code).toBe('ERR_AUTHORIZATION_DENIED')
    expect(error.oauthError).toBe('access_denied')
    expect(error.message).not.toContain('script')
  })

  it('a missing, wrong or repeated state is refused before anything else', async () => {
    const r = await record(true)
    for (const bad of [
      new URLSearchParams({ code: 'c', iss: metadata.issuer }),
      new URLSearchParams({ code: 'c', iss: 'https://evil.example.com', state: 'wrong' }),
      new URLSearchParams([
        ['state', r.state],
        ['state', r.state],
        ['code', 'c'],
      ]),
    ]) {
      await expect(processAuthorizationCallback(r, bad)).rejects.toMatchObject({ code: 'ERR_STATE_MISMATCH' })
    }
  })
})
