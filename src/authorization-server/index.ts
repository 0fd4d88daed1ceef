/**
 * `portcullis/authorization-server`: an embedded OAuth 2.1 authorization server made for MCP.
 *
 * @module
 */
export * from './accounts/index.js'
export type * from './audit.js'
export { consoleAudit } from './audit.js'
export { CIMD_MAX_BYTES } from './clients/cimd.js'
export * from './errors.js'
export { ID_JAG_PROFILE, ID_JAG_TYP } from './grants/jwt-bearer.js'
export type { RotateKeysOptions } from './keys.js'
export type * from './options.js'
export { type RotateSigningKeysOptions, rotateSigningKeys } from './rotate-signing-keys.js'
export { type AuthorizationServer, createAuthorizationServer } from './server.js'
