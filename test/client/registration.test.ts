import { describe, expect, it } from 'vitest'
import {
  chooseTokenEndpointAuthMethod,
  metadataDocumentClient,
  preRegisteredClient,
  processRegistrationResponse,
  registrationCoversRedirect,
  registrationRequestBody,
} from '../../src/client/index.js'

const metadata = {
  issuer: 'https://as.example',
  response_types_supported: ['code'],
  token_endpoint_auth_methods_supported: ['client_secret_basic'],
}

describe('registrationRequestBody (RFC 7591, SEP-837, SEP-2207)', () => {
  it('asks for a native client with the refresh_token grant and a method the server supports', () => {
    const body = registrationRequestBody(metadata, {
      redirectUris: ['http://127.0.0.1:1234/callback'],
      refreshTokens: true,
      clientMetadata: { client_name: 'Demo' },
    })
    expect(body).toMatchObject({
      client_name: 'Demo',
      application_type: 'native',
      redirect_uris: ['http://127.0.0.1:1234/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    })
    expect(
      registrationRequestBody(
        { ...metadata, token_endpoint_auth_methods_supported: ['none'] },
        {
          redirectUris: ['x'],
          refreshTokens: false,
        },
      ),
    ).toMatchObject({ token_endpoint_auth_method: 'none', grant_types: ['authorization_code'] })
  })
})

describe('processRegistrationResponse', () => {
  it('accepts a secret without client_secret_expires_at', async () => {
    const body = await processRegistrationResponse(
      new Response(JSON.stringify({ client_id: 'c', client_secret: 's' }), { status: 201 }),
    )
    expect(body.client_id).toBe('c')
  })
  it('reports an RFC 7591 error code', async () => {
    await expect(
      processRegistrationResponse(
        new Response(JSON.stringify({ error: 'invalid_redirect_uri' }), { status: 400 }),
      ),
    ).rejects.toMatchObject({ code: 'ERR_REGISTRATION', oauthError: 'invalid_redirect_uri' })
  })
  it('refuses a response without client_id', async () => {
    await expect(processRegistrationResponse(new Response('{}', { status: 201 }))).rejects.toMatchObject({
      code: 'ERR_REGISTRATION',
    })
  })
})

describe('client identity selection', () => {
  it('uses pre-registered credentials only for their issuer', () => {
    const pre = { [metadata.issuer]: { client_id: 'p', client_secret: 's' } }
    expect(preRegisteredClient(metadata.issuer, metadata, pre)).toMatchObject({
      client_id: 'p',
      token_endpoint_auth_method: 'client_secret_basic',
      source: 'pre-registered',
    })
    expect(preRegisteredClient('https://other.example', metadata, pre)).toBeUndefined()
    // The object's prototype is not a source of credentials.
    expect(preRegisteredClient('constructor', metadata, pre)).toBeUndefined()
  })

  it('uses the metadata document URL only when the server supports it, never with a secret method', () => {
    const url = 'https://app.example/client.json'
    expect(metadataDocumentClient(metadata.issuer, metadata, url, undefined)).toBeUndefined()
    expect(
      metadataDocumentClient(
        metadata.issuer,
        { ...metadata, client_id_metadata_document_supported: true },
        url,
        undefined,
      ),
    ).toMatchObject({ client_id: url, token_endpoint_auth_method: 'none' })
  })

  it('chooses client_secret_post only when basic is not offered', () => {
    expect(chooseTokenEndpointAuthMethod(metadata, { client_secret: 's' })).toBe('client_secret_basic')
    expect(
      chooseTokenEndpointAuthMethod(
        { ...metadata, token_endpoint_auth_methods_supported: ['client_secret_post'] },
        {
          client_secret: 's',
        },
      ),
    ).toBe('client_secret_post')
    expect(chooseTokenEndpointAuthMethod(metadata, {})).toBe('none')
  })

  it('a loopback IP registration covers other ports (RFC 8252 §7.3), nothing else', () => {
    const client = {
      issuer: metadata.issuer,
      client_id: 'c',
      token_endpoint_auth_method: 'none' as const,
      source: 'dynamic' as const,
      redirect_uris: ['http://127.0.0.1:1111/callback'],
    }
    expect(registrationCoversRedirect(client, 'http://127.0.0.1:2222/callback')).toBe(true)
    expect(registrationCoversRedirect(client, 'http://127.0.0.1:2222/other')).toBe(false)
    expect(registrationCoversRedirect(client, 'http://localhost:1111/callback')).toBe(false)
  })
})
