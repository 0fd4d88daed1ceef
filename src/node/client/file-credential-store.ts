/**
 * An encrypted credential store in files, for CLIs and desktop hosts: AES-256-GCM with a key in
 * the OS keychain (through `@napi-rs/keyring`) or, where there is none, in a key file readable by
 * the user only. One file per record, written atomically; a lock file coordinates refreshes
 * between processes.
 *
 * @see [MCP 2026-07-28 Authorization](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) refresh tokens kept confidential in storage
 * @module
 */

import { createHash } from 'node:crypto'
import { chmod, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import type {
  CredentialStore,
  ServerBinding,
  StoredClient,
  StoredTokens,
} from '../../client/credential-store.js'
import { ClientError } from '../../client/errors.js'
import { base64url, randomBytes } from '../../protocol/random.js'
import { decrypt, type EncryptionKey, encrypt, importEncryptionKey, recordAad } from '../../storage/crypto.js'
import { type FileLockOptions, withFileLock } from './file-lock.js'

/** Options of {@link createFileCredentialStore}. */
export interface FileCredentialStoreOptions {
  /** The directory (created 0700). */
  directory: string
  /**
   * Keep the encryption key in the OS keychain under this service and account. `false` uses the
   * key file only. Default `{ service: 'portcullis', account: 'credential-store:<directory>' }`.
   */
  keychain?: { service: string; account: string } | false
  /** Lock timing. */
  lock?: FileLockOptions
}

/** Where the encryption key came from. */
export type KeySource = 'keychain' | 'file'

/** The file store, with where its key lives. */
export interface FileCredentialStore extends CredentialStore {
  readonly keySource: KeySource
  readonly directory: string
}

const KEY_FILE = 'store.key'

async function writeAtomic(path: string, data: string): Promise<void> {
  const temp = `${path}.${process.pid}.${base64url(randomBytes(6))}.tmp`
  const handle = await open(temp, 'wx', 0o600)
  try {
    await handle.writeFile(data)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temp, path)
  await chmod(path, 0o600)
}

async function keychainSecret(service: string, account: string): Promise<string | undefined> {
  try {
    const { Entry } = await import('@napi-rs/keyring')
    const entry = new Entry(service, account)
    const existing = entry.getPassword()
    if (typeof existing === 'string' && existing.length >= 43) return existing
    const secret = base64url(randomBytes(32))
    entry.setPassword(secret)
    // Read back: some backends accept writes they cannot serve.
    return entry.getPassword() === secret ? secret : undefined
  } catch {
    return undefined
  }
}

async function fileSecret(directory: string): Promise<string> {
  const path = join(directory, KEY_FILE)
  try {
    const handle = await open(path, 'wx', 0o600)
    try {
      const secret = base64url(randomBytes(32))
      await handle.writeFile(secret)
      await handle.sync()
      return secret
    } finally {
      await handle.close()
    }
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  }
  await chmod(path, 0o600)
  // Another process may be creating it right now: wait until it has content.
  for (let i = 0; i < 50; i++) {
    const text = (await readFile(path, 'utf8')).trim()
    if (text.length > 0) return text
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
  throw new ClientError('ERR_INVALID_OPTIONS', 'the credential store key file is empty')
}

function fileName(kind: string, id: string): string {
  return `${kind}-${createHash('sha256').update(recordAad(kind, id)).digest('hex').slice(0, 40)}.json`
}

/**
 * Opens (creating if needed) an encrypted credential store in `directory`. The directory is made
 * 0700 and every file in it 0600, also when they existed before with wider modes (anchors S3).
 * Tokens are keyed by (issuer, resource), client registrations by issuer.
 *
 * @throws {ClientError} `ERR_INVALID_OPTIONS` when the key file cannot be read
 */
export async function createFileCredentialStore(
  options: FileCredentialStoreOptions,
): Promise<FileCredentialStore> {
  const directory = options.directory
  await mkdir(directory, { recursive: true, mode: 0o700 })
  await chmod(directory, 0o700)
  const locks = join(directory, 'locks')
  await mkdir(locks, { recursive: true, mode: 0o700 })
  await chmod(locks, 0o700)
  for (const entry of await readdir(directory, { withFileTypes: true })) {
    if (entry.isFile()) await chmod(join(directory, entry.name), 0o600)
  }

  let secret: string | undefined
  let keySource: KeySource = 'file'
  if (options.keychain !== false) {
    const { service, account } = options.keychain ?? {
      service: 'portcullis',
      account: `credential-store:${directory}`,
    }
    secret = await keychainSecret(service, account)
    if (secret !== undefined) keySource = 'keychain'
  }
  secret ??= await fileSecret(directory)
  let key: EncryptionKey
  try {
    key = await importEncryptionKey(secret)
  } catch (error) {
    throw new ClientError('ERR_INVALID_OPTIONS', 'the credential store key is unusable', { cause: error })
  }

  async function read<T>(kind: string, id: string): Promise<T | undefined> {
    let envelope: string
    try {
      envelope = await readFile(join(directory, fileName(kind, id)), 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw error
    }
    try {
      return JSON.parse(await decrypt(key, envelope.trim(), recordAad(kind, id))) as T
    } catch {
      // Sealed with another key, tampered with or moved: unusable, so absent.
      return undefined
    }
  }

  async function write(kind: string, id: string, value: unknown): Promise<void> {
    await writeAtomic(
      join(directory, fileName(kind, id)),
      await encrypt(key, JSON.stringify(value), recordAad(kind, id)),
    )
  }

  async function remove(kind: string, id: string): Promise<void> {
    await unlink(join(directory, fileName(kind, id))).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error
    })
  }

  const tokenId = (issuer: string, resource: string): string => `${issuer}\u0000${resource}`

  return {
    keySource,
    directory,
    getTokens: (issuer, resource) => read<StoredTokens>('tokens', tokenId(issuer, resource)),
    setTokens: (tokens) => write('tokens', tokenId(tokens.issuer, tokens.resource), tokens),
    deleteTokens: (issuer, resource) => remove('tokens', tokenId(issuer, resource)),
    getClient: (issuer) => read<StoredClient>('client', issuer),
    setClient: (client) => write('client', client.issuer, client),
    deleteClient: (issuer) => remove('client', issuer),
    getServer: (serverUrl) => read<ServerBinding>('server', serverUrl),
    setServer: (binding) => write('server', binding.server_url, binding),
    deleteServer: (serverUrl) => remove('server', serverUrl),
    lock: (name, fn) =>
      withFileLock(
        join(locks, `${createHash('sha256').update(name).digest('hex').slice(0, 40)}.lock`),
        fn,
        options.lock,
      ),
  }
}
