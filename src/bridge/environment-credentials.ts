/**
 * Credentials for headless use, read from the environment: a stdio server takes its credentials
 * from the environment rather than running the authorization flow (MCP Authorization, "Protocol
 * Requirements"). Without any, the bridge logs in through the browser like any other client.
 *
 * @see [MCP Authorization: Protocol Requirements](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#protocol-requirements) STDIO transports retrieve credentials from the environment
 * @see [MCP OAuth Client Credentials extension](https://modelcontextprotocol.io/extensions/auth/oauth-client-credentials) (SEP-1046)
 * @module
 */

import { BridgeError } from './errors.js'

/** The environment variables the bridge reads. */
export const BRIDGE_ENVIRONMENT = {
  /** A static access token sent as `Authorization: Bearer`; no login, no refresh. */
  bearerToken: 'PORTCULLIS_BEARER_TOKEN',
  /** The pre-registered client of the client credentials grant. */
  clientId: 'PORTCULLIS_CLIENT_ID',
  /** Its secret (`client_secret_basic`, or `client_secret_post` when the server takes only that). */
  clientSecret: 'PORTCULLIS_CLIENT_SECRET',
  /** The authorization server the client is registered with: the only one it sends the secret to. */
  issuer: 'PORTCULLIS_ISSUER',
  /** The scope to request with client credentials (space separated). Optional. */
  scope: 'PORTCULLIS_SCOPE',
} as const

/** How the bridge authorizes its requests to the remote MCP server. */
export type BridgeCredentials =
  /** The MCP authorization flow: discovery, registration, browser login, refresh, step-up. */
  | { type: 'interactive' }
  /** A static bearer token. */
  | { type: 'bearer'; token: string }
  /** The OAuth client credentials grant with a pre-registered confidential client. */
  | { type: 'client_credentials'; clientId: string; clientSecret: string; issuer: string; scope?: string }

function read(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

/**
 * Reads the bridge's credentials from `env`. A bearer token wins over nothing, client
 * credentials need all of id, secret and issuer (the secret is only ever sent to that issuer),
 * and both kinds at once are refused rather than guessed between.
 *
 * @throws {BridgeError} `ERR_INVALID_OPTIONS` for incomplete or contradictory variables
 */
export function credentialsFromEnvironment(env: NodeJS.ProcessEnv = process.env): BridgeCredentials {
  const token = read(env, BRIDGE_ENVIRONMENT.bearerToken)
  const clientId = read(env, BRIDGE_ENVIRONMENT.clientId)
  const clientSecret = read(env, BRIDGE_ENVIRONMENT.clientSecret)
  const issuer = read(env, BRIDGE_ENVIRONMENT.issuer)
  const scope = read(env, BRIDGE_ENVIRONMENT.scope)
  const anyClient = clientId !== undefined || clientSecret !== undefined
  if (token !== undefined && anyClient) {
    throw new BridgeError(
      'ERR_INVALID_OPTIONS',
      `set either ${BRIDGE_ENVIRONMENT.bearerToken} or ${BRIDGE_ENVIRONMENT.clientId}/${BRIDGE_ENVIRONMENT.clientSecret}, not both`,
    )
  }
  if (token !== undefined) return { type: 'bearer', token }
  if (!anyClient) return { type: 'interactive' }
  if (clientId === undefined || clientSecret === undefined) {
    throw new BridgeError(
      'ERR_INVALID_OPTIONS',
      `client credentials need both ${BRIDGE_ENVIRONMENT.clientId} and ${BRIDGE_ENVIRONMENT.clientSecret}`,
    )
  }
  if (issuer === undefined) {
    throw new BridgeError(
      'ERR_INVALID_OPTIONS',
      `client credentials need ${BRIDGE_ENVIRONMENT.issuer}: the authorization server the client is registered with`,
      {
        detail: 'the client secret is never sent to an authorization server the MCP server names on its own',
      },
    )
  }
  let issuerUrl: URL
  try {
    issuerUrl = new URL(issuer)
  } catch (error) {
    throw new BridgeError('ERR_INVALID_OPTIONS', `${BRIDGE_ENVIRONMENT.issuer} is not a URL`, {
      cause: error,
    })
  }
  if (issuerUrl.protocol !== 'https:' && issuerUrl.protocol !== 'http:') {
    throw new BridgeError('ERR_INVALID_OPTIONS', `${BRIDGE_ENVIRONMENT.issuer} must be an https URL`)
  }
  return {
    type: 'client_credentials',
    clientId,
    clientSecret,
    issuer,
    ...(scope === undefined ? {} : { scope }),
  }
}
