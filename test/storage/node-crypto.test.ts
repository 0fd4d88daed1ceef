import { createHmac, hkdfSync } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { randomToken, sha256 } from '../../src/protocol/random.js'
import { encrypt, recordAad, tokenDerivedKey } from '../../src/storage/crypto.js'
import { openSuccessor, webRotationCrypto } from '../../src/storage/refresh-rotation.js'
import { nodeRotationCrypto } from '../../src/storage/sql/node-crypto.js'
import type { RefreshRotationInput } from '../../src/storage/types.js'

const AAD = recordAad('refresh_successor', 'presented-hash')
const decryptError = expect.objectContaining({ code: 'ERR_STORAGE_DECRYPT' })

/** A rotation input presenting `token` (its hash is the row the envelope is bound to). */
async function presenting(token: string): Promise<RefreshRotationInput> {
  const next = randomToken(32)
  return {
    presentedToken: token,
    presentedHash: await sha256(token),
    client_id: 'client',
    successor: { token: next, hash: await sha256(next), expires_at: 0 },
    now: 0,
  }
}

describe('nodeRotationCrypto', () => {
  it('hashes exactly as Web Crypto does (RFC 7636 appendix B vector included)', async () => {
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'
    expect(nodeRotationCrypto.sha256(verifier)).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM')
    for (const text of ['', 'a', randomToken(32), 'ünïcødé ✓']) {
      expect(nodeRotationCrypto.sha256(text)).toBe(await sha256(text))
    }
  })

  it('seals the documented version 2 envelope, byte for byte the same as Web Crypto', async () => {
    const token = randomToken(32)
    const successor = randomToken(32)
    const byNode = nodeRotationCrypto.seal(token, successor, AAD) as string
    expect(byNode).toMatch(/^pc2\.rt\.[\w-]+$/)
    expect(byNode).not.toContain(successor)
    // The keystream: HMAC-SHA-512 keyed with the token over label, NUL, aad, NUL, block counter.
    const stream = createHmac('sha512', token)
      .update(Buffer.concat([Buffer.from(`portcullis refresh successor v2\u0000${AAD}\u0000`), Buffer.of(0)]))
      .digest()
    const expected = Buffer.from(successor).map((byte, i) => byte ^ stream[i]!)
    expect(byNode).toBe(`pc2.rt.${Buffer.from(expected).toString('base64url')}`)
    expect(await webRotationCrypto.seal(token, successor, AAD)).toBe(byNode)
    expect(await webRotationCrypto.open(token, byNode, AAD)).toBe(successor)
    expect(nodeRotationCrypto.open(token, byNode, AAD)).toBe(successor)
  })

  it('uses a keystream of its own per token and per row, over several blocks', async () => {
    const token = randomToken(32)
    const long = 'x'.repeat(150)
    const sealed = nodeRotationCrypto.seal(token, long, AAD) as string
    expect(await webRotationCrypto.seal(token, long, AAD)).toBe(sealed)
    expect(nodeRotationCrypto.open(token, sealed, AAD)).toBe(long)
    const others = [
      nodeRotationCrypto.seal(randomToken(32), long, AAD),
      nodeRotationCrypto.seal(token, long, recordAad('refresh_successor', 'other-hash')),
    ]
    for (const other of others) expect(other).not.toBe(sealed)
    // Blocks differ from one another: no 64-byte period in the ciphertext of a constant text.
    const bytes = Buffer.from(sealed.slice('pc2.rt.'.length), 'base64url')
    expect(bytes.subarray(0, 64).equals(bytes.subarray(64, 128))).toBe(false)
    expect(() => nodeRotationCrypto.seal(token, 'x'.repeat(64 * 256), AAD)).toThrow(
      expect.objectContaining({ code: 'ERR_STORAGE_INVALID_ARGUMENT' }),
    )
  })

  it('gives the successor back only to the presented token, for its own row, untampered', async () => {
    const input = await presenting(randomToken(32))
    for (const c of [nodeRotationCrypto, webRotationCrypto]) {
      const sealed = await c.seal(
        input.presentedToken,
        input.successor.token,
        recordAad('refresh_successor', input.presentedHash),
      )
      expect(await openSuccessor(input, sealed, input.successor.hash, c)).toBe(input.successor.token)
      // Another token, another row, a flipped bit: the opened bytes do not hash to the successor.
      const otherToken = { ...input, presentedToken: randomToken(32) }
      await expect(openSuccessor(otherToken, sealed, input.successor.hash, c)).rejects.toEqual(decryptError)
      const otherRow = { ...input, presentedHash: await sha256(randomToken(32)) }
      await expect(openSuccessor(otherRow, sealed, input.successor.hash, c)).rejects.toEqual(decryptError)
      const body = Buffer.from(sealed.slice('pc2.rt.'.length), 'base64url')
      body[0]! ^= 1
      const tampered = `pc2.rt.${body.toString('base64url')}`
      await expect(openSuccessor(input, tampered, input.successor.hash, c)).rejects.toEqual(decryptError)
    }
  })

  it('refuses malformed envelopes and unknown versions', async () => {
    const token = randomToken(32)
    const fails = async (envelope: string) => {
      expect(() => nodeRotationCrypto.open(token, envelope, AAD)).toThrow(decryptError)
      await expect(
        Promise.resolve().then(() => webRotationCrypto.open(token, envelope, AAD)),
      ).rejects.toEqual(decryptError)
    }
    await fails('pc2.rt.')
    await fails('pc2.rt.not base64!')
    await fails('pc3.rt.AAAA')
    await fails('pc1.kek.AAAA.AAAA')
    await fails('pc1.rt.AAAA')
  })

  it('still opens the version 1 envelopes of earlier releases (AES-256-GCM under HKDF of the token)', async () => {
    const input = await presenting(randomToken(32))
    const aad = recordAad('refresh_successor', input.presentedHash)
    const v1 = await encrypt(await tokenDerivedKey(input.presentedToken), input.successor.token, aad)
    expect(v1).toMatch(/^pc1\.rt\.[\w-]{16}\.[\w-]+$/)
    expect(nodeRotationCrypto.open(input.presentedToken, v1, aad)).toBe(input.successor.token)
    expect(await webRotationCrypto.open(input.presentedToken, v1, aad)).toBe(input.successor.token)
    expect(await openSuccessor(input, v1, input.successor.hash, nodeRotationCrypto)).toBe(
      input.successor.token,
    )
    // The HKDF key of those envelopes is RFC 5869's with a zero salt, as hkdfSync computes it.
    const expected = hkdfSync(
      'sha256',
      Buffer.from(input.presentedToken),
      Buffer.alloc(0),
      'portcullis refresh successor v1',
      32,
    )
    const raw = await crypto.subtle.importKey('raw', expected, 'AES-GCM', false, ['decrypt'])
    const [, , iv, body] = v1.split('.')
    const opened = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: Buffer.from(iv!, 'base64url'), additionalData: Buffer.from(aad) },
      raw,
      Buffer.from(body!, 'base64url'),
    )
    expect(Buffer.from(opened).toString()).toBe(input.successor.token)
    // A tampered version 1 envelope fails its own tag.
    const parts = v1.split('.')
    const tampered = Buffer.from(parts[3]!, 'base64url')
    tampered[0]! ^= 1
    expect(() =>
      nodeRotationCrypto.open(
        input.presentedToken,
        [...parts.slice(0, 3), tampered.toString('base64url')].join('.'),
        aad,
      ),
    ).toThrow(decryptError)
  })
})
