import { describe, expect, it } from 'vitest'
import {
  assertSecureEndpoint,
  validateAuthorizationServerMetadata,
} from '../../src/protocol/authorization-server-metadata.js'
import { ProtocolError } from '../../src/protocol/errors.js'

// RFC 8414 §3.2, example response.
const RFC8414_EXAMPLE = {
  issuer: 'https://server.example.com',
  authorization_endpoint: 'https://server.example.com/authorize',
  token_endpoint: 'https://server.example.com/token',
  token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
  token_endpoint_auth_signing_alg_values_supported: ['RS256', 'ES256'],
  userinfo_endpoint: 'https://server.example.com/userinfo',
  jwks_uri: 'https://server.example.com/jwks.json',
  registration_endpoint: 'https://server.example.com/register',
  scopes_supported: ['openid', 'profile', 'email', 'address', 'phone', 'offline_access'],
  response_types_supported: ['code', 'code token'],
  service_documentation: 'http://server.example.com/service_documentation.html',
  ui_locales_supported: ['en-US', 'en-GB', 'en-CA', 'fr-FR', 'fr-CA'],
}

const MCP_READY = {
  ...RFC8414_EXAMPLE,
  code_challenge_methods_supported: ['S256'],
  authorization_response_iss_parameter_supported: true,
  client_id_metadata_document_supported: true,
}

const ISSUER = 'https://server.example.com'

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn()
  } catch (error) {
    return error instanceof ProtocolError ? error.code : 'not a ProtocolError'
  }
  return undefined
}

describe('validateAuthorizationServerMetadata', () => {
  it('accepts the RFC 8414 §3.2 example when PKCE is not required, and returns it', () => {
    const doc = validateAuthorizationServerMetadata(structuredClone(RFC8414_EXAMPLE), {
      expectedIssuer: ISSUER,
      requireS256: false,
    })
    expect(doc).toEqual(RFC8414_EXAMPLE)
    expect(doc.token_endpoint).toBe('https://server.example.com/token')
  })

  it('refuses the RFC 8414 §3.2 example by default: no code_challenge_methods_supported (MCP C-47)', () => {
    expect(
      codeOf(() => validateAuthorizationServerMetadata(RFC8414_EXAMPLE, { expectedIssuer: ISSUER })),
    ).toBe('ERR_PKCE')
  })

  it('refuses metadata whose PKCE methods lack S256', () => {
    expect(
      codeOf(() =>
        validateAuthorizationServerMetadata(
          { ...MCP_READY, code_challenge_methods_supported: ['plain'] },
          { expectedIssuer: ISSUER },
        ),
      ),
    ).toBe('ERR_PKCE')
    expect(
      codeOf(() =>
        validateAuthorizationServerMetadata(
          { ...MCP_READY, code_challenge_methods_supported: [] },
          { expectedIssuer: ISSUER },
        ),
      ),
    ).toBe('ERR_PKCE')
  })

  it('accepts MCP-ready metadata with the extension members and keeps unknown ones', () => {
    const doc = validateAuthorizationServerMetadata(
      { ...MCP_READY, code_challenge_methods_supported: ['plain', 'S256', 'S512-future'], x_extra: 1 },
      { expectedIssuer: ISSUER },
    )
    expect(doc.client_id_metadata_document_supported).toBe(true)
    expect(doc.authorization_response_iss_parameter_supported).toBe(true)
    expect(doc['x_extra']).toBe(1)
  })

  it('refuses a document at an attacker URL that claims an honest issuer (D-C1)', () => {
    // Fetched from https://attacker.example/.well-known/oauth-authorization-server
    const forged = { ...MCP_READY, issuer: 'https://honest.example' }
    expect(
      codeOf(() =>
        validateAuthorizationServerMetadata(forged, { expectedIssuer: 'https://attacker.example' }),
      ),
    ).toBe('ERR_ISSUER_MISMATCH')
  })

  it('compares the issuer as a string: a trailing slash is a mismatch', () => {
    const doc = { ...MCP_READY, issuer: 'https://as.example.com' }
    expect(
      codeOf(() => validateAuthorizationServerMetadata(doc, { expectedIssuer: 'https://as.example.com/' })),
    ).toBe('ERR_ISSUER_MISMATCH')
    expect(
      codeOf(() => validateAuthorizationServerMetadata(doc, { expectedIssuer: 'https://AS.example.com' })),
    ).toBe('ERR_ISSUER_MISMATCH')
    expect(
      codeOf(() =>
        validateAuthorizationServerMetadata(doc, { expectedIssuer: 'https://as.example.com:443' }),
      ),
    ).toBe('ERR_ISSUER_MISMATCH')
  })

  it('refuses dangerous endpoint schemes (anchors S1, S22)', () => {
    for (const value of [
      'javascript:alert(1)',
      'JaVaScRiPt:alert(1)',
      'file:///etc/passwd',
      'data:text/html,<script>alert(1)</script>',
      'a:$(calc)',
      'ms-msdt:/id PCWDiagnostic',
      ' https://server.example.com/authorize',
      'https://server.example.com/authorize#frag',
      'https://server.example.com@evil.example/authorize',
      '/authorize',
    ]) {
      for (const member of [
        'authorization_endpoint',
        'token_endpoint',
        'registration_endpoint',
        'op_tos_uri',
      ]) {
        expect(
          codeOf(() =>
            validateAuthorizationServerMetadata(
              { ...MCP_READY, [member]: value },
              { expectedIssuer: ISSUER },
            ),
          ),
          `${member}=${value}`,
        ).toBe('ERR_INVALID_METADATA')
      }
    }
  })

  it('refuses malformed documents', () => {
    const { response_types_supported: _, ...noResponseTypes } = MCP_READY
    const bad: unknown[] = [
      null,
      [],
      'metadata',
      { ...MCP_READY, issuer: undefined },
      { ...MCP_READY, issuer: ['https://server.example.com'] },
      noResponseTypes,
      { ...MCP_READY, response_types_supported: ['token'] },
      { ...MCP_READY, response_types_supported: 'code' },
      { ...MCP_READY, code_challenge_methods_supported: 'S256' },
      { ...MCP_READY, client_id_metadata_document_supported: 'true' },
      { ...MCP_READY, token_endpoint_auth_signing_alg_values_supported: ['none'] },
    ]
    for (const doc of bad) {
      expect(
        codeOf(() => validateAuthorizationServerMetadata(doc, { expectedIssuer: ISSUER })),
        JSON.stringify(doc),
      ).toBe('ERR_INVALID_METADATA')
    }
  })

  it('refuses an issuer with a query even when it is echoed (RFC 8414 §2)', () => {
    const issuer = 'https://server.example.com?tenant=1'
    expect(
      codeOf(() => validateAuthorizationServerMetadata({ ...MCP_READY, issuer }, { expectedIssuer: issuer })),
    ).toBe('ERR_INVALID_METADATA')
  })

  it('accepts an issuer with a path when it is echoed exactly', () => {
    const issuer = 'https://auth.example.com/tenant1'
    expect(
      validateAuthorizationServerMetadata({ ...MCP_READY, issuer }, { expectedIssuer: issuer }).issuer,
    ).toBe(issuer)
  })
})

describe('assertSecureEndpoint', () => {
  it('accepts https', () => {
    expect(() => assertSecureEndpoint('https://as.example.com/token')).not.toThrow()
  })

  it('refuses http by default', () => {
    expect(codeOf(() => assertSecureEndpoint('http://as.example.com/token'))).toBe('ERR_INVALID_URL')
    expect(codeOf(() => assertSecureEndpoint('http://127.0.0.1:9000/token'))).toBe('ERR_INVALID_URL')
  })

  it('accepts http on loopback only with allowHttpLoopback', () => {
    const opts = { allowHttpLoopback: true }
    for (const url of [
      'http://localhost:9000/token',
      'http://127.0.0.1/token',
      'http://127.8.9.10/t',
      'http://[::1]:80/t',
    ]) {
      expect(() => assertSecureEndpoint(url, opts), url).not.toThrow()
    }
    for (const url of [
      'http://as.example.com/token',
      'http://localhost.evil.example/token',
      'http://127.0.0.1.nip.io/token',
      'http://10.0.0.1/token',
      'http://[::ffff:127.0.0.1]/token',
    ]) {
      expect(
        codeOf(() => assertSecureEndpoint(url, opts)),
        url,
      ).toBe('ERR_INVALID_URL')
    }
  })

  it('accepts any http with allowHttp, but never another scheme', () => {
    expect(() => assertSecureEndpoint('http://as.example.com/token', { allowHttp: true })).not.toThrow()
    for (const url of ['javascript:alert(1)', 'file:///etc/passwd', 'ftp://as.example.com/x']) {
      expect(
        codeOf(() => assertSecureEndpoint(url, { allowHttp: true, allowHttpLoopback: true })),
        url,
      ).toBe('ERR_INVALID_URL')
    }
  })
})
