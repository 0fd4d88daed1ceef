/**
 * `portcullis/proxy`: an MCP authorization server in front of GitHub, Google or any OpenID Connect
 * provider, with per-client consent, its own tokens and no token passthrough.
 *
 * @module
 */
export type { BindingCookie } from './binding-cookie.js'
export * from './errors.js'
export type { UpstreamIdentity } from './identity.js'
export * from './presets.js'
export { type AuthInfoLike, createOAuthProxy, type OAuthProxy, type OAuthProxyOptions } from './proxy.js'
export type {
  UpstreamEndpoints,
  UpstreamFetch,
  UpstreamIdentitySource,
  UpstreamOptions,
} from './upstream-options.js'
export type { UpstreamAccessToken } from './upstream-tokens.js'
