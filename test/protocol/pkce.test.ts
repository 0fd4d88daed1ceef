import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { ProtocolError } from '../../src/protocol/errors.js'
import {
  computeCodeChallenge,
  generateCodeVerifier,
  isValidCodeChallenge,
  isValidCodeVerifier,
  verifyCodeChallenge,
} from '../../src/protocol/pkce.js'

// RFC 7636 Appendix B.
const RFC_VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
const RFC_CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

describe('PKCE S256', () => {
  it('computes the RFC 7636 Appendix B challenge', async () => {
    expect(await computeCodeChallenge(RFC_VERIFIER)).toBe(RFC_CHALLENGE)
  })

  it('verifies the RFC 7636 Appendix B pair, with S256 explicit or by default', async () => {
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE)).toBe(true)
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, 'S256')).toBe(true)
  })

  it('refuses plain and every other method, even when the values would match', async () => {
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_VERIFIER, 'plain')).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, 'plain')).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, 's256')).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, '')).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE, 'S256 ')).toBe(false)
  })

  it('refuses a wrong verifier or a wrong challenge', async () => {
    const other = `${RFC_VERIFIER.slice(0, -1)}Y`
    expect(await verifyCodeChallenge(other, RFC_CHALLENGE)).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, `${RFC_CHALLENGE.slice(0, -1)}A`)).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, RFC_CHALLENGE.toLowerCase())).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, `${RFC_CHALLENGE}=`)).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, '')).toBe(false)
  })

  it('refuses verifiers of the wrong length or alphabet, without throwing', async () => {
    const short = 'a'.repeat(42)
    expect(await verifyCodeChallenge(short, await sha256Like(short))).toBe(false)
    expect(await verifyCodeChallenge('a'.repeat(129), RFC_CHALLENGE)).toBe(false)
    expect(await verifyCodeChallenge(`${RFC_VERIFIER} `, RFC_CHALLENGE)).toBe(false)
    expect(await verifyCodeChallenge(undefined as unknown as string, RFC_CHALLENGE)).toBe(false)
    expect(await verifyCodeChallenge(RFC_VERIFIER, undefined as unknown as string)).toBe(false)
  })

  it('computeCodeChallenge throws ERR_PKCE for a malformed verifier', async () => {
    for (const bad of ['a'.repeat(42), 'a'.repeat(129), `${'a'.repeat(42)}+`, `${'a'.repeat(42)}é`]) {
      const error = await computeCodeChallenge(bad).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ProtocolError)
      expect((error as ProtocolError).code).toBe('ERR_PKCE')
      expect((error as ProtocolError).message).not.toContain(bad)
    }
  })

  it('accepts verifiers of 43 and 128 unreserved characters, and nothing outside that', () => {
    expect(isValidCodeVerifier(RFC_VERIFIER)).toBe(true)
    expect(isValidCodeVerifier('a'.repeat(43))).toBe(true)
    expect(isValidCodeVerifier(`${'A-._~9'.repeat(21)}zz`)).toBe(true)
    expect(isValidCodeVerifier('a'.repeat(42))).toBe(false)
    expect(isValidCodeVerifier('a'.repeat(129))).toBe(false)
    for (const c of ['+', '/', '=', ' ', '%', '\n', 'é']) {
      expect(isValidCodeVerifier(`${'a'.repeat(43)}${c}`)).toBe(false)
    }
  })

  it('accepts only 43-character canonical base64url challenges', () => {
    expect(isValidCodeChallenge(RFC_CHALLENGE)).toBe(true)
    expect(isValidCodeChallenge(RFC_CHALLENGE.slice(1))).toBe(false)
    expect(isValidCodeChallenge(`${RFC_CHALLENGE}A`)).toBe(false)
    expect(isValidCodeChallenge(`${RFC_CHALLENGE.slice(0, -1)}=`)).toBe(false)
    expect(isValidCodeChallenge(`${RFC_CHALLENGE.slice(0, -1)}+`)).toBe(false)
    // A last character with stray low bits cannot come from a 32-byte digest.
    expect(isValidCodeChallenge(`${RFC_CHALLENGE.slice(0, -1)}N`)).toBe(false)
    expect(isValidCodeChallenge(`${'a'.repeat(41)}.A`)).toBe(false)
    expect(isValidCodeChallenge(`${'a'.repeat(41)}~A`)).toBe(false)
  })

  it('generates distinct 43-character verifiers whose challenges verify', async () => {
    const seen = new Set<string>()
    for (let i = 0; i < 50; i++) {
      const verifier = generateCodeVerifier()
      expect(verifier).toMatch(/^[A-Za-z0-9_-]{43}$/)
      expect(isValidCodeVerifier(verifier)).toBe(true)
      const challenge = await computeCodeChallenge(verifier)
      expect(isValidCodeChallenge(challenge)).toBe(true)
      expect(await verifyCodeChallenge(verifier, challenge)).toBe(true)
      seen.add(verifier)
    }
    expect(seen.size).toBe(50)
  })

  it('every valid verifier round-trips and no other valid verifier answers its challenge', async () => {
    const verifier = fc.stringMatching(/^[A-Za-z0-9._~-]{43,128}$/)
    await fc.assert(
      fc.asyncProperty(verifier, verifier, async (a, b) => {
        const challenge = await computeCodeChallenge(a)
        expect(isValidCodeChallenge(challenge)).toBe(true)
        expect(await verifyCodeChallenge(a, challenge)).toBe(true)
        expect(await verifyCodeChallenge(b, challenge)).toBe(a === b)
      }),
      { numRuns: 200 },
    )
  })
})

async function sha256Like(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text)))
  return btoa(String.fromCharCode(...digest))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}
