import { describe, expect, it } from 'vitest'
import {
  isClientIdMetadataDocumentUrl,
  validateClientIdMetadataDocument,
  validateClientMetadata,
} from '../../src/protocol/client-metadata.js'
import { OAuthError } from '../../src/protocol/errors.js'

// RFC 7591 §3.1, example registration request body.
const RFC7591_EXAMPLE = {
  redirect_uris: ['https://client.example.org/callback', 'https://client.example.org/callback2'],
  client_name: 'My Example Client',
  'client_name#ja-Jpan-JP': '\u30AF\u30E9\u30A4\u30A2\u30F3\u30C8\u540D',
  token_endpoint_auth_method: 'client_secret_basic',
  logo_uri: 'https://client.example.org/logo.png',
  jwks_uri: 'https://client.example.org/my_public_keys.jwks',
  example_extension_parameter: 'example_value',
}

// MCP Authorization, Client ID Metadata Documents example.
const CIMD_URL = 'https://app.example.com/oauth/client-metadata.json'
const MCP_CIMD_EXAMPLE = {
  client_id: CIMD_URL,
  client_name: 'Example MCP Client',
  client_uri: 'https://app.example.com',
  logo_uri: 'https://app.example.com/logo.png',
  redirect_uris: ['http://127.0.0.1:3000/callback', 'http://localhost:3000/callback'],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'none',
}

function oauthErrorOf(fn: () => unknown): { code: string; description: string | undefined } | undefined {
  try {
    fn()
  } catch (error) {
    if (!(error instanceof OAuthError)) return { code: 'not an OAuthError', description: String(error) }
    return { code: error.code, description: error.description }
  }
  return undefined
}

describe('validateClientMetadata', () => {
  it('accepts the RFC 7591 §3.1 example and keeps language-tagged and extension members', () => {
    const metadata = validateClientMetadata(structuredClone(RFC7591_EXAMPLE))
    expect(metadata).toEqual(RFC7591_EXAMPLE)
    expect(metadata['client_name#ja-Jpan-JP']).toBe('クライアント名')
    expect(metadata['example_extension_parameter']).toBe('example_value')
  })

  it('accepts a public native client with loopback redirect URIs and a refresh grant', () => {
    const metadata = validateClientMetadata({
      redirect_uris: ['http://127.0.0.1:33418/callback'],
      token_endpoint_auth_method: 'none',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      application_type: 'native',
      client_name: 'CLI',
    })
    expect(metadata.application_type).toBe('native')
  })

  it('keeps unknown grant type values (the server decides what it supports)', () => {
    const metadata = validateClientMetadata({
      ...RFC7591_EXAMPLE,
      grant_types: ['authorization_code', 'urn:ietf:params:oauth:grant-type:device_code'],
    })
    expect(metadata.grant_types).toContain('urn:ietf:params:oauth:grant-type:device_code')
  })

  it('does not let a __proto__ member change the prototype of the result', () => {
    const input = JSON.parse(
      '{"__proto__":{"isAdmin":true},"redirect_uris":["https://a.example/cb"],"token_endpoint_auth_method":"none"}',
    )
    const metadata = validateClientMetadata(input)
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype)
    expect(metadata['isAdmin']).toBeUndefined()
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined()
  })

  it('refuses jwks together with jwks_uri (RFC 7591 §2)', () => {
    const result = oauthErrorOf(() =>
      validateClientMetadata({
        ...RFC7591_EXAMPLE,
        jwks: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] },
      }),
    )
    expect(result?.code).toBe('invalid_client_metadata')
  })

  it('refuses unknown token endpoint auth methods, and private_key_jwt without a key', () => {
    for (const method of ['client_secret_jwt', 'tls_client_auth', 'magic', '']) {
      expect(
        oauthErrorOf(() => validateClientMetadata({ ...RFC7591_EXAMPLE, token_endpoint_auth_method: method }))
          ?.code,
      ).toBe('invalid_client_metadata')
    }
    const { jwks_uri: _, ...noKey } = RFC7591_EXAMPLE
    expect(
      oauthErrorOf(() => validateClientMetadata({ ...noKey, token_endpoint_auth_method: 'private_key_jwt' }))
        ?.code,
    ).toBe('invalid_client_metadata')
    expect(
      validateClientMetadata({ ...RFC7591_EXAMPLE, token_endpoint_auth_method: 'private_key_jwt' }),
    ).toBeDefined()
  })

  it('refuses inconsistent grant_types and response_types (RFC 7591 §2.1)', () => {
    const cases = [
      { grant_types: ['authorization_code'], response_types: ['token'] },
      { grant_types: ['client_credentials'], response_types: ['code'] },
      { grant_types: ['client_credentials'] }, // response_types defaults to ["code"]
      { response_types: ['token'] }, // grant_types defaults to ["authorization_code"]
      { grant_types: ['authorization_code', 'implicit'], response_types: ['code'] },
    ]
    for (const extra of cases) {
      expect(
        oauthErrorOf(() => validateClientMetadata({ ...RFC7591_EXAMPLE, ...extra }))?.code,
        JSON.stringify(extra),
      ).toBe('invalid_client_metadata')
    }
    expect(
      validateClientMetadata({
        grant_types: ['client_credentials'],
        response_types: [],
        token_endpoint_auth_method: 'client_secret_basic',
      }),
    ).toBeDefined()
  })

  it('requires redirect_uris for the authorization code grant, including by default', () => {
    const { redirect_uris: _, ...noRedirects } = RFC7591_EXAMPLE
    expect(oauthErrorOf(() => validateClientMetadata(noRedirects))?.code).toBe('invalid_redirect_uri')
    expect(oauthErrorOf(() => validateClientMetadata({ ...noRedirects, redirect_uris: [] }))?.code).toBe(
      'invalid_redirect_uri',
    )
  })

  it('refuses dangerous redirect URIs with invalid_redirect_uri, without echoing them (anchors S9)', () => {
    for (const uri of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      ' javascript:alert(1)',
      'java\tscript:alert(1)',
      'data:text/html,x',
      'file:///etc/passwd',
      'http://localhost:80@evil.com/cb',
      'https://client.example.org/cb#frag',
      'http://client.example.org/cb',
    ]) {
      const result = oauthErrorOf(() => validateClientMetadata({ ...RFC7591_EXAMPLE, redirect_uris: [uri] }))
      expect(result?.code, uri).toBe('invalid_redirect_uri')
      expect(result?.description).not.toContain('evil')
      expect(result?.description).not.toContain('alert')
    }
  })

  it('applies application_type to redirect URIs: a web client cannot use a private-use scheme', () => {
    expect(
      validateClientMetadata({
        ...RFC7591_EXAMPLE,
        redirect_uris: ['cursor://oauth/callback'],
        application_type: 'native',
      }),
    ).toBeDefined()
    expect(
      oauthErrorOf(() =>
        validateClientMetadata({
          ...RFC7591_EXAMPLE,
          redirect_uris: ['cursor://oauth/callback'],
          application_type: 'web',
        }),
      )?.code,
    ).toBe('invalid_redirect_uri')
  })

  it('refuses malformed members and non-http(s) links with invalid_client_metadata', () => {
    const bad: unknown[] = [
      null,
      [],
      'metadata',
      { ...RFC7591_EXAMPLE, redirect_uris: 'https://client.example.org/callback' },
      { ...RFC7591_EXAMPLE, redirect_uris: [42] },
      { ...RFC7591_EXAMPLE, client_name: { en: 'x' } },
      { ...RFC7591_EXAMPLE, contacts: 'admin@example.org' },
      { ...RFC7591_EXAMPLE, application_type: 'desktop' },
      { ...RFC7591_EXAMPLE, logo_uri: 'javascript:alert(1)' },
      { ...RFC7591_EXAMPLE, client_uri: 'file:///etc/passwd' },
      { ...RFC7591_EXAMPLE, tos_uri: 'data:text/plain,x' },
      { ...RFC7591_EXAMPLE, jwks_uri: undefined, jwks: { keys: 'none' } },
      { ...RFC7591_EXAMPLE, jwks_uri: undefined, jwks: { keys: [{ use: 'sig' }] } },
    ]
    for (const doc of bad) {
      const result = oauthErrorOf(() => validateClientMetadata(doc))
      expect(result?.code, JSON.stringify(doc)).toBe('invalid_client_metadata')
      expect(result?.description).not.toContain('"')
    }
  })
})

describe('isClientIdMetadataDocumentUrl', () => {
  it('accepts https URLs with a path', () => {
    for (const url of [
      CIMD_URL,
      'https://example.com/client.json',
      'https://example.com:8443/c',
      'https://example.com/c/',
    ]) {
      expect(isClientIdMetadataDocumentUrl(url), url).toBe(true)
    }
  })

  it('refuses what CIMD §3 and MCP forbid, and a query', () => {
    for (const url of [
      'http://example.com/client.json',
      'HTTPS://example.com/client.json',
      'https://example.com',
      'https://example.com/',
      'https://example.com/a/../client.json',
      'https://example.com/./client.json',
      'https://example.com/%2e%2e/client.json',
      'https://example.com/client.json#x',
      'https://example.com/client.json#',
      'https://user@example.com/client.json',
      'https://example.com@evil.example/client.json',
      'https://example.com/client.json?v=1',
      'https:example.com/client.json',
      'https:///client.json',
      ' https://example.com/client.json',
      'https://example.com/client\\json',
      'client.json',
      'my-client-id',
      '',
    ]) {
      expect(isClientIdMetadataDocumentUrl(url), url).toBe(false)
    }
  })
})

describe('validateClientIdMetadataDocument', () => {
  it('accepts the MCP example document', () => {
    const doc = validateClientIdMetadataDocument(structuredClone(MCP_CIMD_EXAMPLE), { url: CIMD_URL })
    expect(doc).toEqual(MCP_CIMD_EXAMPLE)
    expect(doc.client_id).toBe(CIMD_URL)
  })

  it('treats an absent token_endpoint_auth_method as none and keeps unknown members', () => {
    const { token_endpoint_auth_method: _, ...rest } = MCP_CIMD_EXAMPLE
    const doc = validateClientIdMetadataDocument(
      { ...rest, code_challenge_methods_used: ['S256'] },
      { url: CIMD_URL },
    )
    expect(doc.token_endpoint_auth_method).toBe('none')
    expect(doc['code_challenge_methods_used']).toEqual(['S256'])
  })

  it('refuses a client_id that is not the document URL (simple string comparison)', () => {
    for (const clientId of [
      'https://attacker.example/oauth/client-metadata.json',
      'https://APP.example.com/oauth/client-metadata.json',
      'https://app.example.com:443/oauth/client-metadata.json',
      `${CIMD_URL}/`,
      undefined,
    ]) {
      const result = oauthErrorOf(() =>
        validateClientIdMetadataDocument({ ...MCP_CIMD_EXAMPLE, client_id: clientId }, { url: CIMD_URL }),
      )
      expect(result?.code, String(clientId)).toBe('invalid_client')
    }
  })

  it('refuses shared-secret authentication and secrets in the document (CIMD §4.1)', () => {
    for (const method of ['client_secret_basic', 'client_secret_post', 'client_secret_jwt']) {
      expect(
        oauthErrorOf(() =>
          validateClientIdMetadataDocument(
            { ...MCP_CIMD_EXAMPLE, token_endpoint_auth_method: method },
            { url: CIMD_URL },
          ),
        )?.code,
      ).toBe('invalid_client')
    }
    for (const extra of [{ client_secret: 's3cr3t-value' }, { client_secret_expires_at: 0 }]) {
      const result = oauthErrorOf(() =>
        validateClientIdMetadataDocument({ ...MCP_CIMD_EXAMPLE, ...extra }, { url: CIMD_URL }),
      )
      expect(result?.code).toBe('invalid_client')
      expect(result?.description).not.toContain('s3cr3t')
    }
  })

  it('accepts private_key_jwt with a published key (CIMD §6.2)', () => {
    const doc = validateClientIdMetadataDocument(
      {
        ...MCP_CIMD_EXAMPLE,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks_uri: 'https://app.example.com/jwks.json',
      },
      { url: CIMD_URL },
    )
    expect(doc.token_endpoint_auth_method).toBe('private_key_jwt')
  })

  it('requires client_name and redirect_uris (MCP)', () => {
    const { client_name: _n, ...noName } = MCP_CIMD_EXAMPLE
    const { redirect_uris: _r, ...noRedirects } = MCP_CIMD_EXAMPLE
    for (const doc of [
      noName,
      noRedirects,
      { ...MCP_CIMD_EXAMPLE, redirect_uris: [] },
      { ...MCP_CIMD_EXAMPLE, client_name: '' },
    ]) {
      expect(oauthErrorOf(() => validateClientIdMetadataDocument(doc, { url: CIMD_URL }))?.code).toBe(
        'invalid_client',
      )
    }
  })

  it('maps every client metadata error to invalid_client', () => {
    for (const doc of [
      null,
      { ...MCP_CIMD_EXAMPLE, redirect_uris: ['javascript:alert(1)'] },
      { ...MCP_CIMD_EXAMPLE, logo_uri: 'javascript:alert(1)' },
      { ...MCP_CIMD_EXAMPLE, response_types: ['token'] },
      { ...MCP_CIMD_EXAMPLE, jwks_uri: 'https://app.example.com/j', jwks: { keys: [] } },
    ]) {
      expect(
        oauthErrorOf(() => validateClientIdMetadataDocument(doc, { url: CIMD_URL }))?.code,
        JSON.stringify(doc),
      ).toBe('invalid_client')
    }
  })

  it('refuses a document URL that breaks the CIMD URL rules, even when echoed', () => {
    for (const url of [
      'http://app.example.com/c.json',
      'https://app.example.com/',
      'https://app.example.com/c.json?x=1',
    ]) {
      expect(
        oauthErrorOf(() => validateClientIdMetadataDocument({ ...MCP_CIMD_EXAMPLE, client_id: url }, { url }))
          ?.code,
        url,
      ).toBe('invalid_client')
    }
  })
})
