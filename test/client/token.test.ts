import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import {
  ClientError,
  clientSecretBasic,
  refreshAccessToken,
  requestClientCredentials,
  type TokenRequestContext,
  toStoredTokens,
} from '../../src/client/index.js'

describe('clientSecretBasic (RFC 6749 §2.3.1)', () => {
  it('form-urlencodes id and secret before base64, leaving unreserved characters alone', () => {
    const headers = new Headers()
    clientSecretBasic('s:e c/r+t')(
      {} as never,
      { client_id: 'pre-registered.client_1' },
      new URLSearchParams(),
      headers,
    )
    const decoded = atob(headers.get('authorization')!.slice(6))
    expect(decoded).toBe('pre-registered.client_1:s%3Ae+c%2Fr%2Bt')
  })
})

describe('toStoredTokens', () => {
  it('computes the expiry and keeps the previous refresh token when none is returned', () => {
    const stored = toStoredTokens({ access_token: 'a2', token_type: 'bearer', expires_in: 60 } as never, {
      issuer: 'https://as',
      resource: 'https://rs',
      now: 1000,
      previous: {
        issuer: 'https://as',
        resource: 'https://rs',
        access_token: 'a1',
        token_type: 'Bearer',
        refresh_token: 'r1',
        requested_scope: 'x',
      },
    })
    expect(stored).toEqual({
      issuer: 'https://as',
      resource: 'https://rs',
      access_token: 'a2',
      token_type: 'Bearer',
      refresh_token: 'r1',
      expires_at: 61_000,
      requested_scope: 'x',
    })
  })
})

interface TokenCall {
  form: URLSearchParams
  dpop: string | undefined
}

/** A token endpoint on 127.0.0.1 that answers each call with `answer(call number)`. */
async function withTokenEndpoint(
  answer: (n: number) => { status: number; body: unknown; headers?: Record<string, string> },
  run: (ctx: TokenRequestContext, calls: TokenCall[]) => Promise<void>,
  dpop?: oauth.DPoPHandle,
): Promise<void> {
  const calls: TokenCall[] = []
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    let body = ''
    request.on('data', (chunk) => {
      body += chunk
    })
    request.on('end', () => {
      calls.push({ form: new URLSearchParams(body), dpop: request.headers['dpop'] as string | undefined })
      const { status, body: json, headers } = answer(calls.length)
      response.writeHead(status, {
        'content-type': 'application/json',
        'cache-control': 'no-store',
        ...headers,
      })
      response.end(JSON.stringify(json))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  try {
    await run(
      {
        metadata: { issuer, token_endpoint: `${issuer}/token` } as TokenRequestContext['metadata'],
        client: { issuer, client_id: 'c1', token_endpoint_auth_method: 'none', source: 'pre-registered' },
        fetch,
        policy: { allowInsecureLoopback: true },
        clock: () => 1_000,
        dpop,
      },
      calls,
    )
  } finally {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

function proofNonce(proof: string | undefined): unknown {
  return proof === undefined
    ? undefined
    : JSON.parse(atob(proof.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')))['nonce']
}

describe('token endpoint grants', () => {
  it('retries once with the server nonce after use_dpop_nonce and binds the tokens to the key (RFC 9449 §8)', async () => {
    const keyPair = (await oauth.generateKeyPair('ES256')) as oauth.CryptoKeyPair
    const dpop = oauth.DPoP({}, keyPair)
    await withTokenEndpoint(
      (n) =>
        n === 1
          ? { status: 400, body: { error: 'use_dpop_nonce' }, headers: { 'dpop-nonce': 'n-1' } }
          : { status: 200, body: { access_token: 'at', token_type: 'DPoP', expires_in: 60 } },
      async (ctx, calls) => {
        const tokens = await requestClientCredentials(ctx, {
          resource: 'https://rs.example/mcp',
          scope: 'a b',
        })
        expect(calls).toHaveLength(2)
        expect(proofNonce(calls[0]?.dpop)).toBeUndefined()
        expect(proofNonce(calls[1]?.dpop)).toBe('n-1')
        expect(calls[1]?.form.get('grant_type')).toBe('client_credentials')
        expect(calls[1]?.form.get('resource')).toBe('https://rs.example/mcp')
        expect(calls[1]?.form.get('scope')).toBe('a b')
        expect(tokens).toMatchObject({
          access_token: 'at',
          token_type: 'DPoP',
          expires_at: 61_000,
          requested_scope: 'a b',
          dpop_jkt: await dpop.calculateThumbprint(),
        })
      },
      dpop,
    )
  })

  it('does not retry a refused refresh without DPoP, and names the refresh in the error', async () => {
    await withTokenEndpoint(
      () => ({ status: 400, body: { error: 'invalid_grant' } }),
      async (ctx, calls) => {
        const error = await refreshAccessToken(ctx, {
          issuer: ctx.metadata.issuer,
          resource: 'https://rs.example/mcp',
          access_token: 'old',
          token_type: 'Bearer',
          refresh_token: 'r1',
        }).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(ClientError)
        expect(error).toMatchObject({
          code: 'ERR_TOKEN',
          message: 'the refresh was refused',
          oauthError: 'invalid_grant',
        })
        expect(calls).toHaveLength(1)
        expect(calls[0]?.form.get('grant_type')).toBe('refresh_token')
        expect(calls[0]?.form.get('refresh_token')).toBe('r1')
        expect(calls[0]?.form.get('resource')).toBe('https://rs.example/mcp')
      },
    )
  })
})
