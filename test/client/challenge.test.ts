import { describe, expect, it } from 'vitest'
import { interpretChallenge, readResourceChallenge } from '../../src/client/index.js'

function response(status: number, challenges: string[], extra: Record<string, string> = {}): Response {
  const headers = new Headers(extra)
  for (const c of challenges) headers.append('www-authenticate', c)
  return new Response(null, { status, headers })
}

describe('interpretChallenge', () => {
  it('401 without a token means authorize, with the challenge parameters', () => {
    const result = interpretChallenge(
      response(401, [
        'Bearer resource_metadata="https://mcp.example.com/.well-known/oauth-protected-resource", scope="a b"',
      ]),
      false,
    )
    expect(result.action).toBe('authorize')
    expect(result.challenge).toMatchObject({
      scheme: 'bearer',
      resource_metadata: 'https://mcp.example.com/.well-known/oauth-protected-resource',
      scope: 'a b',
    })
  })

  it('401 after sending a token means refresh', () => {
    expect(interpretChallenge(response(401, ['Bearer error="invalid_token"']), true).action).toBe('refresh')
  })

  it('403 insufficient_scope means step-up; another 403 is only reported', () => {
    const stepUp = interpretChallenge(
      response(403, ['Bearer error="insufficient_scope", scope="files:write"']),
      true,
    )
    expect(stepUp.action).toBe('step-up')
    expect(stepUp.challenge.scope).toBe('files:write')
    expect(interpretChallenge(response(403, []), true).action).toBe('forbidden')
  })

  it('finds the Bearer challenge among several headers and schemes (RFC 9110 §11.6.1)', () => {
    const result = readResourceChallenge(
      response(401, ['Basic realm="x", Negotiate', 'bEaReR realm="mcp", scope="s1"']).headers,
    )
    expect(result.scheme).toBe('bearer')
    expect(result.scope).toBe('s1')
    expect(result.schemes).toEqual(['basic', 'negotiate', 'bearer'])
  })

  it('reads a DPoP challenge and its nonce error (RFC 9449 §9)', () => {
    const first = interpretChallenge(response(401, ['DPoP resource_metadata="https://r.example/prm"']), false)
    expect(first.challenge.scheme).toBe('dpop')
    expect(first.challenge.resource_metadata).toBe('https://r.example/prm')
    const nonce = interpretChallenge(
      response(401, ['DPoP error="use_dpop_nonce"'], { 'dpop-nonce': 'n1' }),
      true,
    )
    expect(nonce.action).toBe('dpop-nonce')
  })

  it('a malformed header counts as no challenge (well-known discovery follows)', () => {
    const result = interpretChallenge(response(401, ['Bearer scope="unterminated']), false)
    expect(result.action).toBe('authorize')
    expect(result.challenge.scheme).toBeUndefined()
    expect(result.challenge.resource_metadata).toBeUndefined()
  })

  it('other statuses pass through', () => {
    expect(interpretChallenge(new Response('x', { status: 200 }), true).action).toBe('ok')
    expect(interpretChallenge(new Response('x', { status: 500 }), true).action).toBe('ok')
  })
})
