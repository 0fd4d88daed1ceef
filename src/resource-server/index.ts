/**
 * `portcullis/resource-server`: Protected Resource Metadata, bearer-token checks with a
 * mandatory audience, per-method and per-tool scopes, JWT and introspection verifiers, and Hono
 * middleware. Portable: web-standard APIs only.
 *
 * @module
 */
export * from './auth-info.js'
export * from './bearer-token.js'
export * from './challenge.js'
export {
  ResourceServerError,
  type ResourceServerErrorCode,
  TokenVerificationError,
  type TokenVerificationErrorCode,
} from './errors.js'
export type { FetchLike } from './fetch-json.js'
export * from './hono.js'
export * from './introspection-verifier.js'
export * from './jwt-verifier.js'
export { CORS_ALLOWED_HEADERS, PRM_ROOT_PATH } from './metadata.js'
export * from './protected-resource.js'
export * from './scope-policy.js'
export type { TokenCacheOptions } from './token-cache.js'
