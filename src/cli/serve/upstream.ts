/**
 * `serve --upstream`: which identity provider the proxy logs users in with. Presets are
 * configuration only; the provider's client credentials come from the environment so they never
 * appear in a command line or a process list.
 *
 * @module
 */
import { github, google, oidc } from '../../proxy/presets.js'
import type { UpstreamOptions } from '../../proxy/upstream-options.js'
import { CliError } from '../errors.js'

/** The environment variables `serve --upstream` reads. */
export const UPSTREAM_ENV = {
  clientId: 'PORTCULLIS_UPSTREAM_CLIENT_ID',
  clientSecret: 'PORTCULLIS_UPSTREAM_CLIENT_SECRET',
  scopes: 'PORTCULLIS_UPSTREAM_SCOPES',
} as const

/**
 * The upstream of `--upstream <preset|issuer>`: `github`, `google`, or the https issuer of any
 * OpenID Connect provider (discovered from its metadata).
 *
 * @throws {CliError} when the credentials are missing or the value is neither a preset nor an https URL
 */
export function upstreamFromConfig(value: string, env: NodeJS.ProcessEnv = process.env): UpstreamOptions {
  const clientId = env[UPSTREAM_ENV.clientId]
  const clientSecret = env[UPSTREAM_ENV.clientSecret]
  if (!clientId || !clientSecret) {
    throw new CliError('ERR_CONFIG', '--upstream needs the client credentials registered at the provider', {
      fix: `Set ${UPSTREAM_ENV.clientId} and ${UPSTREAM_ENV.clientSecret} (the OAuth app at the provider, whose redirect URI is the callback URL serve prints).`,
    })
  }
  const scopes = env[UPSTREAM_ENV.scopes]?.split(/\s+/).filter((s) => s !== '')
  const credentials = { clientId, clientSecret, ...(scopes?.length ? { scopes } : {}) }
  switch (value.toLowerCase()) {
    case 'github':
      return github(credentials)
    case 'google':
      return google(credentials)
  }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    throw new CliError(
      'ERR_USAGE',
      `--upstream ${JSON.stringify(value)} is neither a preset nor an issuer URL`,
      {
        fix: 'Use github, google, or the https issuer URL of an OpenID Connect provider.',
      },
    )
  }
  if (url.protocol !== 'https:') {
    throw new CliError('ERR_USAGE', '--upstream issuer must be an https URL', {
      fix: 'Use the provider issuer exactly as its metadata spells it, e.g. https://login.example.com',
    })
  }
  return oidc({ ...credentials, issuer: value, name: url.host })
}
