import { describe, expect, it } from 'vitest'
import { randomToken } from '../../src/protocol/random.js'
import {
  decrypt,
  encrypt,
  importEncryptionKey,
  importKeyring,
  recordAad,
  tokenDerivedKey,
} from '../../src/storage/crypto.js'

describe('storage crypto', () => {
  it('round-trips with a fresh IV each time and a versioned envelope', async () => {
    const keys = await importKeyring(randomToken(32))
    const aad = recordAad('upstream_tokens', 'g-1')
    const a = await encrypt(keys.current, 'secret value', aad)
    const b = await encrypt(keys.current, 'secret value', aad)
    expect(a).not.toBe(b)
    expect(a).toMatch(/^pc1\.[A-Za-z0-9_-]{11}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+$/)
    expect(a).not.toContain('secret')
    expect(await decrypt(keys, a, aad)).toBe('secret value')
  })

  it('refuses a ciphertext moved to another row or kind', async () => {
    const keys = await importKeyring(randomToken(32))
    const sealed = await encrypt(keys.current, 'v', recordAad('upstream_tokens', 'g-1'))
    await expect(decrypt(keys, sealed, recordAad('upstream_tokens', 'g-2'))).rejects.toMatchObject({
      code: 'ERR_STORAGE_DECRYPT',
    })
    await expect(decrypt(keys, sealed, recordAad('signing_key', 'g-1'))).rejects.toMatchObject({
      code: 'ERR_STORAGE_DECRYPT',
    })
  })

  it('refuses a tampered ciphertext and malformed envelopes', async () => {
    const keys = await importKeyring(randomToken(32))
    const aad = recordAad('k', 'id')
    const sealed = await encrypt(keys.current, 'value', aad)
    const parts = sealed.split('.')
    const body = parts[3]!
    const flipped = (body[0] === 'A' ? 'B' : 'A') + body.slice(1)
    await expect(decrypt(keys, [...parts.slice(0, 3), flipped].join('.'), aad)).rejects.toMatchObject({
      code: 'ERR_STORAGE_DECRYPT',
    })
    for (const bad of ['', 'pc1', `pc2.${parts.slice(1).join('.')}`, `${sealed}.extra`, 'pc1.x.y.z']) {
      await expect(decrypt(keys, bad, aad)).rejects.toMatchObject({ code: 'ERR_STORAGE_DECRYPT' })
    }
  })

  it('rotates key-encryption keys: encrypt with the first, decrypt with any', async () => {
    const oldSecret = randomToken(32)
    const newSecret = randomToken(32)
    const before = await importKeyring(oldSecret)
    const sealed = await encrypt(before.current, 'v', 'aad')
    const rotated = await importKeyring([newSecret, oldSecret])
    expect(await decrypt(rotated, sealed, 'aad')).toBe('v')
    expect(rotated.current.id).toBe((await importEncryptionKey(newSecret)).id)
    await expect(decrypt(await importKeyring(newSecret), sealed, 'aad')).rejects.toMatchObject({
      code: 'ERR_STORAGE_DECRYPT',
    })
  })

  it('refuses short or non-base64url key material, and an empty keyring', async () => {
    await expect(importEncryptionKey(randomToken(16))).rejects.toMatchObject({ code: 'ERR_STORAGE_CONFIG' })
    await expect(importEncryptionKey('not base64url!!')).rejects.toMatchObject({ code: 'ERR_STORAGE_CONFIG' })
    await expect(importKeyring([])).rejects.toMatchObject({ code: 'ERR_STORAGE_CONFIG' })
    expect((await importEncryptionKey(new Uint8Array(32))).id).toHaveLength(11)
  })

  it('seals a refresh successor so only the holder of the presented token can open it', async () => {
    const presented = randomToken()
    const sealed = await encrypt(
      await tokenDerivedKey(presented),
      'successor',
      recordAad('refresh_successor', 'h'),
    )
    expect(await decrypt(await tokenDerivedKey(presented), sealed, recordAad('refresh_successor', 'h'))).toBe(
      'successor',
    )
    await expect(
      decrypt(await tokenDerivedKey(randomToken()), sealed, recordAad('refresh_successor', 'h')),
    ).rejects.toMatchObject({ code: 'ERR_STORAGE_DECRYPT' })
  })
})
