/**
 * The data directory of `portcullis serve`: created `0700`, holding the SQLite file, the
 * key-encryption key and cookie secret (`secrets.json`, `0600`) and the demo account
 * (`demo-account.json`, `0600`). Files are created exclusively, so two processes starting at once
 * agree on one set of secrets; a secret file others can read is refused.
 *
 * @module
 */
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { hashPassword } from '../../authorization-server/accounts/password-hash.js'
import { randomToken } from '../../protocol/random.js'
import { CliError } from '../errors.js'

/** The secrets `serve` needs across restarts. */
export interface ServeSecrets {
  /** Key-encryption key of the store (signing keys are kept encrypted with it). base64url, 32 bytes. */
  encryptionKey: string
  /** Secret of the login-session and CSRF cookies. */
  cookieSecret: string
}

/** The generated demo account. The password is kept so that a restart can print it again. */
export interface DemoAccount {
  username: string
  password: string
  passwordHash: string
}

/** Creates the directory (and parents) with mode `0700`, or tightens an existing one to `0700`. */
export function ensureDataDir(path: string): string {
  const dir = resolve(path)
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 })
    if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700)
  } catch (error) {
    throw new CliError('ERR_CONFIG', `cannot use the data directory ${dir}: ${(error as Error).message}`, {
      fix: 'Pass --data-dir with a directory you can write to.',
      cause: error,
    })
  }
  return dir
}

/**
 * Reads a JSON secret file, or creates it with `create()` when missing (exclusive create, mode
 * `0600`; when another process wins the race its file is read).
 */
async function readOrCreate<T>(
  file: string,
  create: () => Promise<T>,
  check: (value: unknown) => value is T,
): Promise<{ value: T; created: boolean }> {
  for (let attempt = 0; attempt < 2; attempt++) {
    let text: string | undefined
    try {
      const mode = statSync(file).mode
      if ((mode & 0o077) !== 0) {
        throw new CliError('ERR_CONFIG', `${file} can be read by other users`, {
          fix: `Run: chmod 600 ${file}`,
        })
      }
      text = readFileSync(file, 'utf8')
    } catch (error) {
      if (error instanceof CliError) throw error
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    if (text !== undefined) {
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        value = undefined
      }
      if (!check(value)) {
        throw new CliError('ERR_CONFIG', `${file} is damaged`, {
          fix: `Restore it from a backup, or delete it to start over (the data encrypted with it is then lost).`,
        })
      }
      return { value, created: false }
    }
    const value = await create()
    try {
      writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`, { flag: 'wx', mode: 0o600 })
      return { value, created: true }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      // Another process created it first: read theirs.
    }
  }
  throw new CliError('ERR_RUNTIME', `could not create ${file}`)
}

function isSecrets(value: unknown): value is ServeSecrets {
  const v = value as Partial<ServeSecrets> | null
  return (
    typeof v?.encryptionKey === 'string' &&
    v.encryptionKey.length >= 43 &&
    typeof v.cookieSecret === 'string' &&
    v.cookieSecret.length >= 32
  )
}

function isAccount(value: unknown): value is DemoAccount {
  const v = value as Partial<DemoAccount> | null
  return (
    typeof v?.username === 'string' && typeof v.password === 'string' && typeof v.passwordHash === 'string'
  )
}

/** The key-encryption key and cookie secret of the data directory, generated on first use. */
export async function readOrCreateSecrets(dir: string): Promise<ServeSecrets> {
  const { value } = await readOrCreate(
    join(dir, 'secrets.json'),
    async () => ({ encryptionKey: randomToken(32), cookieSecret: randomToken(32) }),
    isSecrets,
  )
  return value
}

/** The demo account, generated (random username suffix and password, PBKDF2 hash) on first use. */
export async function readOrCreateDemoAccount(dir: string): Promise<DemoAccount & { created: boolean }> {
  const { value, created } = await readOrCreate(
    join(dir, 'demo-account.json'),
    async () => {
      const password = randomToken(18)
      const suffix = randomToken(6)
        .toLowerCase()
        .replace(/[^a-z0-9]/g, '')
      return {
        username: `demo-${suffix.slice(0, 6) || 'user'}`,
        password,
        passwordHash: await hashPassword(password),
      }
    },
    isAccount,
  )
  return { ...value, created }
}
