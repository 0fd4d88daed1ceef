/**
 * Built-in account providers for the login page.
 *
 * @module
 */
export type {
  AuthenticatedUser,
  LocalAccount,
  LocalAccounts,
  LocalAccountsOptions,
} from './local-accounts.js'
export { localAccounts } from './local-accounts.js'
export type { HashPasswordOptions } from './password-hash.js'
export { DEFAULT_PBKDF2_ITERATIONS, hashPassword, verifyPassword } from './password-hash.js'
