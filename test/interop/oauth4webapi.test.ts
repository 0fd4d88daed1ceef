/**
 * oauth4webapi, a strict standalone OAuth client we did not write, against our authorization server
 * over real loopback HTTP: discovery, DCR, code flow with PKCE and the RFC 9207 `iss` check, RFC 9068
 * access-token validation, refresh, introspection and revocation.
 */
import * as oauth from 'oauth4webapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { browserAuthorize, type RunningAuthorizationServer, startAuthorizationServer } from './as-server.js'

const RESOURCE = 'http://127.0.0.1:9/mcp'
const REDIRECT = 'http://127.0.0.1:53682/callback'
const insecure = { [oauth.allowInsecureRequests]: true }

describe.each([
  ['a root issuer', ''],
  ['a path issuer', '/tenant/a'],
])('oauth4webapi against %s', (_name, suffix) => {
  let running: RunningAuthorizationServer
  let as: oauth.AuthorizationServer

  beforeAll(async () => {
    running = await startAuthorizationServer(
      () => ({
        resources: [
          {
            uri: RESOURCE,
            name: 'Interop MCP',
            scopes: { 'mcp:tools': 'Use the tools', 'mcp:read': 'Read' },
          },
        ],
      }),
      suffix,
    )
  })
  afterAll(() => running.close())

  it('discovers the metadata (issuer identity checked by the client)', async () => {
    const issuer = new URL(running.issuer)
    as = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oauth2' }),
    )
    expect(as.issuer).toBe(running.issuer)
    expect(as.code_challenge_methods_supported).toEqual(['S256'])
    expect(as.authorization_response_iss_parameter_supported).toBe(true)
    const oidc = await oauth.processDiscoveryResponse(
      issuer,
      await oauth.discoveryRequest(issuer, { ...insecure, algorithm: 'oidc' }),
    )
    expect(oidc.token_endpoint).toBe(as.token_endpoint)
  })

  it('registers, authorizes with PKCE and iss, validates the JWT access token, refreshes, introspects and revokes', async () => {
    const registered = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: 'oauth4webapi',
          redirect_uris: [REDIRECT],
          grant_types: ['authorization_code', 'refresh_token'],
          token_endpoint_auth_method: 'none',
          application_type: 'native',
        },
        insecure,
      ),
    )
    const client: oauth.Client = { client_id: registered.client_id, token_endpoint_auth_method: 'none' }
    const verifier = oauth.generateRandomCodeVerifier()
    const state = oauth.generateRandomState()
    const url = new URL(as.authorization_endpoint!)
    url.search = new URLSearchParams({
      response_type: 'code',
      client_id: client.client_id,
      redirect_uri: REDIRECT,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      scope: 'mcp:tools mcp:read',
      resource: RESOURCE,
      state,
    }).toString()
    const callback = await browserAuthorize(url.href)
    // Checks state and, since the metadata advertises it, that iss is present and equal (RFC 9207).
    const params = oauth.validateAuthResponse(as, client, callback, state)
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), params, REDIRECT, verifier, {
        ...insecure,
        additionalParameters: { resource: RESOURCE },
      }),
    )
    expect(tokens.token_type).toBe('bearer')
    expect(tokens.scope).toBe('mcp:tools mcp:read')
    // A forged callback whose iss names another server is refused by the client.
    const forged = new URL(callback)
    forged.searchParams.set('iss', 'http://127.0.0.1:1')
    expect(() => oauth.validateAuthResponse(as, client, forged, state)).toThrow()

    const claims = await oauth.validateJwtAccessToken(
      as,
      new Request(RESOURCE, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      RESOURCE,
      insecure,
    )
    expect(claims.client_id).toBe(client.client_id)
    expect(claims.sub).toBe('user-ada')

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, oauth.None(), tokens.refresh_token!, {
        ...insecure,
        additionalParameters: { scope: 'mcp:read' },
      }),
    )
    expect(refreshed.scope).toBe('mcp:read')
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token)

    // A confidential client (a resource server) introspects.
    const rs = await oauth.processDynamicClientRegistrationResponse(
      await oauth.dynamicClientRegistrationRequest(
        as,
        {
          client_name: 'resource server',
          grant_types: ['client_credentials'],
          token_endpoint_auth_method: 'client_secret_basic',
        },
        insecure,
      ),
    )
    const rsClient: oauth.Client = { client_id: rs.client_id }
    const introspection = await oauth.processIntrospectionResponse(
      as,
      rsClient,
      await oauth.introspectionRequest(
        as,
        rsClient,
        oauth.ClientSecretBasic(rs.client_secret as string),
        refreshed.access_token,
        insecure,
      ),
    )
    expect(introspection.active).toBe(true)
    expect(introspection.aud).toBe(RESOURCE)

    await oauth.processRevocationResponse(
      await oauth.revocationRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure),
    )
    const after = await oauth.processIntrospectionResponse(
      as,
      rsClient,
      await oauth.introspectionRequest(
        as,
        rsClient,
        oauth.ClientSecretBasic(rs.client_secret as string),
        refreshed.access_token,
        insecure,
      ),
    )
    expect(after.active).toBe(false)
    await expect(
      oauth.processRefreshTokenResponse(
        as,
        client,
        await oauth.refreshTokenGrantRequest(as, client, oauth.None(), refreshed.refresh_token!, insecure),
      ),
    ).rejects.toMatchObject({ error: 'invalid_grant' })
  })

  it('answers an unknown client with 401 invalid_client, which the client surfaces', async () => {
    const ghost: oauth.Client = { client_id: 'ghost' }
    const response = await oauth.refreshTokenGrantRequest(as, ghost, oauth.None(), 'whatever', insecure)
    expect(response.status).toBe(401)
    // The challenge carries the error code, so a strict client that reads the challenge first still learns it.
    const error = await oauth.processRefreshTokenResponse(as, ghost, response).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(oauth.WWWAuthenticateChallengeError)
    const challenge = (error as oauth.WWWAuthenticateChallengeError).cause[0]!
    expect(challenge.scheme).toBe('basic')
    expect(challenge.parameters.error).toBe('invalid_client')
  })

  it('records the source address of each registration from the socket', () => {
    const registered = running.events.filter((e) => e.type === 'client.registered')
    expect(registered.length).toBeGreaterThan(0)
    expect(registered.every((e) => 'address' in e && e.address === '127.0.0.1')).toBe(true)
  })
})
