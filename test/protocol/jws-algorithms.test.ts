import { describe, expect, it } from 'vitest'
import { ASYMMETRIC_JWS_ALGORITHMS } from '../../src/protocol/jws-algorithms.js'

describe('ASYMMETRIC_JWS_ALGORITHMS', () => {
  it('holds only the RSA, ECDSA and EdDSA families (never none, never HMAC)', () => {
    expect(ASYMMETRIC_JWS_ALGORITHMS.length).toBeGreaterThan(0)
    for (const alg of ASYMMETRIC_JWS_ALGORITHMS) {
      expect(alg).toMatch(/^(?:(?:RS|PS|ES)(?:256|384|512)|EdDSA|Ed25519)$/)
    }
    expect(ASYMMETRIC_JWS_ALGORITHMS).not.toContain('none')
    expect(ASYMMETRIC_JWS_ALGORITHMS.some((alg) => alg.startsWith('HS'))).toBe(false)
  })

  it('lists each algorithm once', () => {
    expect(new Set(ASYMMETRIC_JWS_ALGORITHMS).size).toBe(ASYMMETRIC_JWS_ALGORITHMS.length)
  })
})
