import { hkdfSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { randomToken, sha256 } from '../../src/protocol/random.js'
import { recordAad, tokenDerivedKey } from '../../src/storage/crypto.js'
import { webRotationCrypto } from '../../src/storage/refresh-rotation.js'
import { nodeRotationCrypto } from '../../src/storage/sql/node-crypto.js'

const AAD = recordAad('refresh_successor', 'presented-hash')

describe('nodeRotationCrypto', () => {
  it('hashes exactly as Web Crypto does (RFC 7636 appendix B vector included)', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
    expect(nodeRotationCrypto.sha256(verifier)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
    for (const text of ['', 'a', randomToken(32), 'ünïcødé ✓']) {
      expect(nodeRotationCrypto.sha256(text)).toBe(await sha256(text))
    }
  })

  it('derives the same key as hkdfSync and Web Crypto HKDF (zero salt, SHA-256)', async () => {
    const token = randomToken(32)
    const expected = Buffer.from(
      hkdfSync('sha256', Buffer.from(token), Buffer.alloc(0), 'portcullis refresh successor v1', 32),
    )
    // A value sealed by Web Crypto under its derived key opens with a raw AES key of these bytes.
    const webKey = await tokenDerivedKey(token)
    const sealed = await webRotationCrypto.seal(token, 'plaintext', AAD)
    expect(webKey.id).toBe('rt')
    const raw = await crypto.subtle.importKey('raw', expected, 'AES-GCM', false, ['decrypt'])
    const [, , iv, body] = sealed.split('.')
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: Buffer.from(iv!, 'base64url'), additionalData: Buffer.from(AAD) },
      raw,
      Buffer.from(body!, 'base64url'),
    )
    expect(Buffer.from(opened).toString()).toBe('plaintext')
  })

  it('seals envelopes Web Crypto opens, and opens envelopes Web Crypto sealed', async () => {
    const token = randomToken(32)
    const successor = randomToken(32)
    const byNode = nodeRotationCrypto.seal(token, successor, AAD) as string
    expect(byNode).toMatch(/^pc1\.rt\.[\w-]{16}\.[\w-]+$/)
    expect(byNode).not.toContain(successor)
    expect(await webRotationCrypto.open(token, byNode, AAD)).toBe(successor)
    const byWeb = await webRotationCrypto.seal(token, successor, AAD)
    expect(nodeRotationCrypto.open(token, byWeb, AAD)).toBe(successor)
  })

  it('uses a fresh IV for every envelope', () => {
    const token = randomToken(32)
    const ivs = new Set(
      Array.from({ length: 600 }, () => (nodeRotationCrypto.seal(token, 'x', AAD) as string).split('.')[2]),
    )
    expect(ivs.size).toBe(600)
  })

  it('refuses another token, another row, a tampered or malformed envelope', async () => {
    const token = randomToken(32)
    const sealed = nodeRotationCrypto.seal(token, 'secret', AAD) as string
    const fails = (fn: () => unknown) =>
      expect(fn).toThrow(expect.objectContaining({ code: 'ERR_STORAGE_DECRYPT' }))
    fails(() => nodeRotationCrypto.open(randomToken(32), sealed, AAD))
    fails(() => nodeRotationCrypto.open(token, sealed, recordAad('refresh_successor', 'other-hash')))
    const parts = sealed.split('.')
    const body = Buffer.from(parts[3]!, 'base64url')
    body[0]! ^= 1
    fails(() =>
      nodeRotationCrypto.open(token, [...parts.slice(0, 3), body.toString('base64url')].join('.'), AAD),
    )
    fails(() => nodeRotationCrypto.open(token, `pc2.${parts.slice(1).join('.')}`, AAD))
    fails(() => nodeRotationCrypto.open(token, `pc1.kek.${parts.slice(2).join('.')}`, AAD))
    fails(() => nodeRotationCrypto.open(token, 'pc1.rt.AAAA', AAD))
    // Web Crypto refuses the same tampering of a Node envelope.
    await expect(
      webRotationCrypto.open(token, [...parts.slice(0, 3), body.toString('base64url')].join('.'), AAD),
    ).rejects.toMatchObject({ code: 'ERR_STORAGE_DECRYPT' })
  })
})
