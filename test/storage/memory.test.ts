import { describe, expect, it } from 'vitest'
import { createMemoryStore, memoryStoreSnapshot } from '../../src/storage/memory.js'
import { storeContract } from './contract.js'

storeContract(
  'memory',
  async () => {
    const store = await createMemoryStore()
    return { store, raw: async () => memoryStoreSnapshot(store), cleanup: () => store.close() }
  },
  { sharedDatabase: false },
)

describe('createMemoryStore', () => {
  it('refuses a key-encryption key shorter than 32 bytes', async () => {
    await expect(createMemoryStore({ encryptionKey: new Uint8Array(16) })).rejects.toMatchObject({
      code: 'ERR_STORAGE_CONFIG',
    })
  })
})
