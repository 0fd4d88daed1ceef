/**
 * Upstream presets: configuration only. Each returns {@link UpstreamOptions} for a well-known
 * provider; nothing is contacted until the proxy serves its first sign-in.
 *
 * @module
 */
import type { UpstreamOptions } from './upstream-options.js'

/** What every preset needs: the proxy's static client at the provider. */
export interface PresetCredentials {
  clientId: string
  clientSecret: string
  /** Scopes asked of the provider; each preset has a minimal default. */
  scopes?: string[]
  /** Everything else of {@link UpstreamOptions} may be overridden. */
  overrides?: Partial<UpstreamOptions>
}

/**
 * GitHub (OAuth App or GitHub App). GitHub publishes no metadata, does not do OpenID Connect and
 * sends no RFC 9207 `iss`; the identity comes from `GET https://api.github.com/user` (`id`, with
 * `login` as the name). Refresh tokens exist only for GitHub Apps with expiring user tokens; they
 * are used when GitHub sends them. GitHub has no RFC 7009 revocation endpoint.
 *
 * Register `https://<your proxy>/upstream/callback` as the app's callback URL.
 *
 * @see [GitHub: Authorizing OAuth apps](https://docs.github.com/en/apps/oauth-apps/building-oauth-apps/authorizing-oauth-apps)
 * @see [GitHub: Refreshing user access tokens](https://docs.github.com/en/apps/creating-github-apps/authenticating-with-a-github-app/refreshing-user-access-tokens)
 */
export function github(credentials: PresetCredentials): UpstreamOptions {
  return {
    name: 'GitHub',
    issuer: 'https://github.com',
    endpoints: {
      authorization: 'https://github.com/login/oauth/authorize',
      token: 'https://github.com/login/oauth/access_token',
      userinfo: 'https://api.github.com/user',
    },
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    tokenEndpointAuthMethod: 'client_secret_post',
    scopes: credentials.scopes ?? ['read:user'],
    identity: { from: 'userinfo', subjectClaim: 'id', nameClaim: 'login' },
    issParameterSupported: false,
    ...credentials.overrides,
  }
}

/**
 * Google (OpenID Connect, issuer `https://accounts.google.com`, discovered). The identity is the
 * verified ID Token's `sub`. `access_type=offline` with `prompt=consent` makes Google return a
 * refresh token on every sign-in, which the proxy keeps (encrypted) to refresh upstream.
 *
 * Register `https://<your proxy>/upstream/callback` as an authorized redirect URI of the OAuth
 * client (type "Web application").
 *
 * @see [Google Identity: OpenID Connect](https://developers.google.com/identity/openid-connect/openid-connect)
 * @see [Google Identity: Refreshing an access token (offline access)](https://developers.google.com/identity/protocols/oauth2/web-server#offline)
 */
export function google(credentials: PresetCredentials): UpstreamOptions {
  return {
    name: 'Google',
    issuer: 'https://accounts.google.com',
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    scopes: credentials.scopes ?? ['openid', 'email', 'profile'],
    authorizationParams: { access_type: 'offline', prompt: 'consent' },
    identity: { from: 'id_token' },
    ...credentials.overrides,
  }
}

/**
 * Any OpenID Connect provider, by issuer discovery (`/.well-known/openid-configuration`, or the
 * RFC 8414 document). The identity is the verified ID Token's `sub`; RFC 9207 `iss` is checked
 * when the provider advertises it.
 *
 * @see [OpenID Connect Discovery 1.0](https://openid.net/specs/openid-connect-discovery-1_0.html)
 */
export function oidc(credentials: PresetCredentials & { issuer: string; name: string }): UpstreamOptions {
  return {
    name: credentials.name,
    issuer: credentials.issuer,
    clientId: credentials.clientId,
    clientSecret: credentials.clientSecret,
    scopes: credentials.scopes ?? ['openid', 'profile', 'email'],
    identity: { from: 'id_token' },
    ...credentials.overrides,
  }
}
