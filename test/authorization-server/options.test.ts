import { describe, expect, it } from 'vitest'
import {
  AuthorizationServerError,
  type AuthorizationServerOptions,
  createAuthorizationServer,
} from '../../src/authorization-server/index.js'
import { createMemoryStore } from '../../src/storage/index.js'
import { COOKIE_SECRET, RESOURCE } from './support.js'

async function base(): Promise<AuthorizationServerOptions> {
  return {
    issuer: 'https://as.example.com',
    store: await createMemoryStore(),
    resources: [{ uri: RESOURCE, scopes: { 'mcp:tools': 'Use the tools' } }],
    login: { currentUser: async () => undefined },
    cookieSecret: COOKIE_SECRET,
    onAudit: () => {},
  }
}

function fails(options: unknown, message: RegExp) {
  try {
    createAuthorizationServer(options as AuthorizationServerOptions)
  } catch (error) {
    expect(error).toBeInstanceOf(AuthorizationServerError)
    expect((error as AuthorizationServerError).code).toBe('ERR_INVALID_OPTIONS')
    expect((error as Error).message).toMatch(message)
    return
  }
  throw new Error('constructed')
}

describe('createAuthorizationServer fails closed at construction', () => {
  it('accepts a complete configuration', async () => {
    expect(typeof createAuthorizationServer(await base()).fetch).toBe('function')
  })

  it('refuses a missing or unsafe issuer', async () => {
    const o = await base()
    fails({ ...o, issuer: undefined }, /issuer is required/)
    fails({ ...o, issuer: 'http://as.example.com' }, /https/)
    fails({ ...o, issuer: 'https://as.example.com/?x=1' }, /query/)
    fails({ ...o, issuer: 'https://as.example.com/#f' }, /query or fragment/)
  })

  it('refuses missing essentials', async () => {
    const o = await base()
    fails({ ...o, store: undefined }, /store/)
    fails({ ...o, resources: [] }, /resource/)
    fails({ ...o, resources: [{ uri: 'https://x/#f', scopes: {} }] }, /resource identifier/)
    fails({ ...o, resources: [{ uri: RESOURCE, scopes: { 'bad scope': 'x' } }] }, /scope/)
    fails({ ...o, resources: [{ uri: RESOURCE, scopes: { a: 'x' }, defaultScopes: ['b'] }] }, /defaultScopes/)
    fails({ ...o, login: undefined }, /login/)
    fails(
      { ...o, login: { currentUser: async () => undefined, authenticate: async () => undefined } },
      /exactly one/,
    )
    fails({ ...o, cookieSecret: 'short' }, /cookieSecret/)
    fails({ ...o, defaultResource: 'https://other.example/mcp' }, /defaultResource/)
    fails(
      { ...o, registration: { mode: 'initial-access-token', initialAccessTokens: [] } },
      /initialAccessTokens/,
    )
    fails({ ...o, lifetimes: { accessToken: -1 } }, /accessToken/)
    fails({ ...o, idJag: { issuers: [{ issuer: 'https://idp.example' }] } }, /idJag/)
  })

  it('validates pre-registered clients', async () => {
    const o = await base()
    fails({ ...o, clients: [{ client_id: 'a', redirect_uris: ['javascript:alert(1)'] }] }, /clients\[0\]/)
    fails(
      {
        ...o,
        clients: [
          {
            client_id: 'a',
            redirect_uris: ['https://a.example/cb'],
            token_endpoint_auth_method: 'client_secret_basic',
          },
        ],
      },
      /client_secret/,
    )
    fails(
      {
        ...o,
        clients: [
          { client_id: 'a', redirect_uris: ['https://a.example/cb'] },
          { client_id: 'a', redirect_uris: ['https://a.example/cb'] },
        ],
      },
      /repeated/,
    )
    fails(
      {
        ...o,
        clients: [
          { client_id: 'a', grant_types: ['client_credentials'], token_endpoint_auth_method: 'none' },
        ],
      },
      /confidential/,
    )
  })
})
