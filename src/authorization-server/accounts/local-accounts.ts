/**
 * A built-in user directory for the demo and small deployments: users listed in configuration,
 * passwords stored as PBKDF2 hashes.
 *
 * @module
 */
import {
  DEFAULT_PBKDF2_ITERATIONS,
  hashPassword,
  MAX_PASSWORD_LENGTH,
  parsePasswordHash,
  verifyPassword,
} from './password-hash.js'

export { hashPassword, verifyPassword } from './password-hash.js'

/** One configured user. Give exactly one of `password` (hashed on first use) or `passwordHash`. */
export interface LocalAccount {
  username: string
  /** Plain password, for the demo. Hashed on first use; the plain text is then dropped. */
  password?: string
  /** An encoded hash from `hashPassword` (`pbkdf2-sha256$…`). */
  passwordHash?: string
  /** The `sub` of the user's tokens. Default: the username. */
  subject?: string
  /** Display name shown on the consent page. */
  name?: string
}

/** Options of {@link localAccounts}. */
export interface LocalAccountsOptions {
  users: LocalAccount[]
  /** PBKDF2 iterations for plain `password` entries and the unknown-user decoy. Default 600 000. */
  iterations?: number
}

/** The identity {@link LocalAccounts.authenticate} answers with. */
export interface AuthenticatedUser {
  subject: string
  name?: string
}

/** What {@link localAccounts} returns: an `authenticate` hook for the login page. */
export interface LocalAccounts {
  /** The user when the credentials match, `undefined` otherwise (same cost either way). */
  authenticate(credentials: { username: string; password: string }): Promise<AuthenticatedUser | undefined>
}

interface StoredAccount {
  passwordHash: string
  user: AuthenticatedUser
}

function normalizeUsername(username: string): string {
  return username.normalize('NFC')
}

/**
 * Creates the local-accounts provider. Configuration mistakes (duplicate usernames, neither or
 * both of `password`/`passwordHash`, a malformed hash) throw `TypeError` at construction.
 *
 * Plain passwords are hashed together on the first `authenticate` call, so the first call costs
 * the same whichever username it names. An unknown username still costs one key derivation
 * against a decoy hash, so response time does not reveal which usernames exist.
 *
 * @example
 * ```ts
 * const accounts = localAccounts({ users: [{ username: 'alice', passwordHash: process.env.ALICE_HASH! }] })
 * const user = await accounts.authenticate({ username: 'alice', password })
 * ```
 * @see [OWASP Authentication, authentication responses](https://cheatsheetseries.owasp.org/cheatsheets/Authentication_Cheat_Sheet.html#authentication-responses) no user enumeration
 */
export function localAccounts(options: LocalAccountsOptions): LocalAccounts {
  const iterations = options.iterations ?? DEFAULT_PBKDF2_ITERATIONS
  if (!Array.isArray(options.users)) throw new TypeError('users must be an array')
  // Checked now rather than on the first login.
  if (!Number.isSafeInteger(iterations) || iterations < 1)
    throw new TypeError('iterations must be a positive integer')
  const hashed = new Map<string, StoredAccount>()
  let pending: { username: string; password: string; user: AuthenticatedUser }[] = []
  const seen = new Set<string>()

  for (const entry of options.users) {
    if (typeof entry.username !== 'string' || entry.username === '') {
      throw new TypeError('every local account needs a username')
    }
    const username = normalizeUsername(entry.username)
    if (seen.has(username)) throw new TypeError('duplicate username in local accounts')
    seen.add(username)
    const user: AuthenticatedUser = {
      subject: entry.subject ?? username,
      ...(entry.name === undefined ? {} : { name: entry.name }),
    }
    const hasPlain = typeof entry.password === 'string'
    const hasHash = typeof entry.passwordHash === 'string'
    if (hasPlain === hasHash) {
      throw new TypeError('a local account needs exactly one of password or passwordHash')
    }
    if (hasHash) {
      if (parsePasswordHash(entry.passwordHash!) === undefined) {
        throw new TypeError('a local account has a malformed passwordHash')
      }
      hashed.set(username, { passwordHash: entry.passwordHash!, user })
    } else {
      if (entry.password!.length > MAX_PASSWORD_LENGTH) throw new TypeError('a local password is too long')
      pending.push({ username, password: entry.password!, user })
    }
  }

  let ready: Promise<{ accounts: Map<string, StoredAccount>; decoy: string }> | undefined
  function prepare(): Promise<{ accounts: Map<string, StoredAccount>; decoy: string }> {
    ready ??= (async () => {
      const plain = pending
      pending = []
      for (const { username, password, user } of plain) {
        hashed.set(username, { passwordHash: await hashPassword(password, { iterations }), user })
      }
      plain.length = 0
      // The decoy is checked for unknown usernames, at the configured cost.
      const decoy = await hashPassword(randomDecoyPassword(), { iterations })
      return { accounts: hashed, decoy }
    })()
    return ready
  }
  return {
    async authenticate(credentials) {
      const { accounts, decoy } = await prepare()
      const username =
        typeof credentials?.username === 'string' ? normalizeUsername(credentials.username) : ''
      const password = typeof credentials?.password === 'string' ? credentials.password : ''
      // An over-long password takes the decoy path too, so its timing says nothing about the user.
      const account = password.length > MAX_PASSWORD_LENGTH ? undefined : accounts.get(username)
      if (account === undefined) {
        await verifyPassword(password.slice(0, MAX_PASSWORD_LENGTH), decoy)
        return undefined
      }
      const ok = await verifyPassword(password, account.passwordHash)
      return ok ? { ...account.user } : undefined
    },
  }
}

function randomDecoyPassword(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}
