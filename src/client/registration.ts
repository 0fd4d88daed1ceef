/**
 * How the client identifies itself to an authorization server: pre-registered credentials for
 * that issuer, a Client ID Metadata Document URL, or Dynamic Client Registration, in that order.
 *
 * @see [MCP Authorization: Client Registration Approaches](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-registration-approaches)
 * @see [MCP 2026-07-28 Client Registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration) credentials keyed by issuer (SEP-2352)
 * @module
 */

import * as oauth from 'oauth4webapi'
import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import {
  type ClientMetadata,
  isClientIdMetadataDocumentUrl,
  type TokenEndpointAuthMethod,
} from '../protocol/client-metadata.js'
import type { StoredClient } from './credential-store.js'
import { checkEndpoint, type EndpointPolicy } from './endpoint-policy.js'
import { ClientError } from './errors.js'

/** A private key for `private_key_jwt` client authentication (RFC 7523 §2.2). */
export interface ClientPrivateKey {
  /** A Web Crypto private key (`ES256`, `RS256`, `EdDSA`, ...). */
  key: CryptoKey
  /** The `kid` to put in the assertion's header. */
  kid?: string
}

/** Credentials registered out of band with one authorization server. */
export interface PreRegisteredClient {
  client_id: string
  client_secret?: string
  /** How to authenticate at the token endpoint; inferred from the credentials when absent. */
  token_endpoint_auth_method?: TokenEndpointAuthMethod
  /** For `private_key_jwt`. */
  private_key_jwt?: ClientPrivateKey
}

/**
 * Pre-registered credentials, keyed by the issuer identifier exactly as the authorization server
 * publishes it, or a function that answers for an issuer. Credentials are only ever used with the
 * issuer they are registered for.
 */
export type PreRegistration =
  | Readonly<Record<string, PreRegisteredClient>>
  | ((issuer: string) => PreRegisteredClient | undefined)

/** Looks up the pre-registered credentials for `issuer`. */
export function findPreRegistered(
  preRegistered: PreRegistration | undefined,
  issuer: string,
): PreRegisteredClient | undefined {
  if (preRegistered === undefined) return undefined
  if (typeof preRegistered === 'function') return preRegistered(issuer)
  return Object.hasOwn(preRegistered, issuer) ? preRegistered[issuer] : undefined
}

/**
 * The token endpoint authentication method for a client holding (or not) a secret: the
 * registered one when known; else `none` without a secret; else `client_secret_basic` unless the
 * server lists only `client_secret_post` (RFC 8414 §2: an absent list means `client_secret_basic`).
 */
export function chooseTokenEndpointAuthMethod(
  metadata: AuthorizationServerMetadata,
  credentials: { client_secret?: string | undefined; private_key_jwt?: unknown },
): TokenEndpointAuthMethod {
  if (credentials.private_key_jwt !== undefined) return 'private_key_jwt'
  if (credentials.client_secret === undefined) return 'none'
  const supported = metadata.token_endpoint_auth_methods_supported ?? ['client_secret_basic']
  if (!supported.includes('client_secret_basic') && supported.includes('client_secret_post')) {
    return 'client_secret_post'
  }
  return 'client_secret_basic'
}

/** The pre-registered identity for `issuer`, if any. */
export function preRegisteredClient(
  issuer: string,
  metadata: AuthorizationServerMetadata,
  preRegistered: PreRegistration | undefined,
): StoredClient | undefined {
  const found = findPreRegistered(preRegistered, issuer)
  if (found === undefined) return undefined
  const client: StoredClient = {
    issuer,
    client_id: found.client_id,
    token_endpoint_auth_method:
      found.token_endpoint_auth_method ?? chooseTokenEndpointAuthMethod(metadata, found),
    source: 'pre-registered',
  }
  if (found.client_secret !== undefined) client.client_secret = found.client_secret
  return client
}

/**
 * The Client ID Metadata Document identity, when the server supports it and the client has a
 * document URL (`https`, with a path).
 *
 * @see [MCP Authorization: Client ID Metadata Documents](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents)
 */
export function metadataDocumentClient(
  issuer: string,
  metadata: AuthorizationServerMetadata,
  clientMetadataUrl: string | undefined,
  privateKey: ClientPrivateKey | undefined,
): StoredClient | undefined {
  if (clientMetadataUrl === undefined || metadata.client_id_metadata_document_supported !== true) {
    return undefined
  }
  return {
    issuer,
    client_id: clientMetadataUrl,
    // CIMD §4.1: never a shared-secret method.
    token_endpoint_auth_method: privateKey === undefined ? 'none' : 'private_key_jwt',
    source: 'metadata-document',
  }
}

/** Checks a Client ID Metadata Document URL given in the options. */
export function assertClientMetadataUrl(url: string): void {
  if (!isClientIdMetadataDocumentUrl(url)) {
    throw new ClientError('ERR_INVALID_OPTIONS', 'clientMetadataUrl must be an https URL with a path', {
      detail: 'see the Client ID Metadata Document rules (https, a path, no fragment or userinfo)',
    })
  }
}

/** Inputs of {@link registrationRequestBody}. */
export interface RegistrationRequestInput {
  redirectUris: string[]
  clientMetadata?: ClientMetadata | undefined
  /** Whether the client uses refresh tokens (adds `refresh_token` to `grant_types`). */
  refreshTokens: boolean
}

/**
 * The Dynamic Client Registration request body: the host's metadata plus `redirect_uris`,
 * `grant_types` (with `refresh_token`), `response_types`, `token_endpoint_auth_method` (`none`
 * when the server accepts it) and `application_type` (`native` unless the host says otherwise).
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2)
 * @see [MCP 2026-07-28 Client Registration](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration) `application_type` (SEP-837), `refresh_token` grant (SEP-2207)
 */
export function registrationRequestBody(
  metadata: AuthorizationServerMetadata,
  input: RegistrationRequestInput,
): ClientMetadata {
  const supported = metadata.token_endpoint_auth_methods_supported
  const method: TokenEndpointAuthMethod =
    supported === undefined || supported.includes('none')
      ? 'none'
      : supported.includes('client_secret_basic')
        ? 'client_secret_basic'
        : supported.includes('client_secret_post')
          ? 'client_secret_post'
          : 'none'
  return {
    client_name: 'Portcullis MCP client',
    application_type: 'native',
    ...input.clientMetadata,
    redirect_uris: input.redirectUris,
    grant_types: input.refreshTokens ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: input.clientMetadata?.token_endpoint_auth_method ?? method,
  }
}

/** Options of {@link registerClient}. */
export interface RegisterClientOptions {
  fetch: typeof fetch
  policy: EndpointPolicy
  signal?: AbortSignal | undefined
}

/**
 * Registers the client (RFC 7591) and returns the identity to store under `issuer`.
 *
 * @throws {ClientError} `ERR_NO_CLIENT_ID` without a registration endpoint, `ERR_REGISTRATION` when refused
 * @see [RFC 7591 §3](https://www.rfc-editor.org/rfc/rfc7591#section-3)
 */
export async function registerClient(
  metadata: AuthorizationServerMetadata,
  body: ClientMetadata,
  options: RegisterClientOptions,
): Promise<StoredClient> {
  if (metadata.registration_endpoint === undefined) {
    throw new ClientError('ERR_NO_CLIENT_ID', 'no client id for this authorization server', {
      detail: `${metadata.issuer} offers no registration; pre-register a client and pass its credentials`,
    })
  }
  checkEndpoint(metadata.registration_endpoint, options.policy, 'registration_endpoint')
  let response: Response
  try {
    response = await oauth.dynamicClientRegistrationRequest(
      metadata as oauth.AuthorizationServer,
      body as Partial<oauth.OmitSymbolProperties<oauth.Client>>,
      {
        [oauth.customFetch]: options.fetch,
        [oauth.allowInsecureRequests]: options.policy.allowInsecureLoopback,
        ...(options.signal === undefined ? {} : { signal: options.signal }),
      },
    )
  } catch (error) {
    throw new ClientError('ERR_REGISTRATION', 'dynamic client registration failed', { cause: error })
  }
  const registered = await processRegistrationResponse(response)
  const secret = typeof registered.client_secret === 'string' ? registered.client_secret : undefined
  const method =
    typeof registered.token_endpoint_auth_method === 'string'
      ? (registered.token_endpoint_auth_method as TokenEndpointAuthMethod)
      : secret === undefined
        ? 'none'
        : 'client_secret_basic'
  const client: StoredClient = {
    issuer: metadata.issuer,
    client_id: registered.client_id,
    token_endpoint_auth_method: method,
    source: 'dynamic',
    redirect_uris: Array.isArray(registered.redirect_uris)
      ? (registered.redirect_uris as string[])
      : (body.redirect_uris ?? []),
  }
  if (secret !== undefined) client.client_secret = secret
  if (typeof registered.client_secret_expires_at === 'number') {
    client.client_secret_expires_at = registered.client_secret_expires_at
  }
  return client
}

/**
 * Checks a registration response (RFC 7591 §3.2): `201` (or `200`) with a JSON object holding a
 * string `client_id`. Servers that leave out `client_secret_expires_at` next to a secret are
 * accepted (the secret is then treated as not expiring), as widely deployed servers do.
 *
 * @throws {ClientError} `ERR_REGISTRATION`, with `oauthError` for an RFC 7591 §3.2.2 error response
 * @see [RFC 7591 §3.2](https://www.rfc-editor.org/rfc/rfc7591#section-3.2)
 */
export async function processRegistrationResponse(
  response: Response,
): Promise<Record<string, unknown> & { client_id: string }> {
  let json: unknown
  try {
    json = await response.json()
  } catch {
    json = undefined
  }
  const body =
    typeof json === 'object' && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>)
      : undefined
  if (response.status !== 201 && response.status !== 200) {
    const code = typeof body?.['error'] === 'string' ? body['error'] : undefined
    throw new ClientError('ERR_REGISTRATION', 'the authorization server refused the registration', {
      status: response.status,
      oauthError: code,
    })
  }
  if (body === undefined || typeof body['client_id'] !== 'string' || body['client_id'] === '') {
    throw new ClientError('ERR_REGISTRATION', 'the registration response has no client_id', {
      status: response.status,
    })
  }
  if (body['client_secret'] !== undefined && typeof body['client_secret'] !== 'string') {
    throw new ClientError('ERR_REGISTRATION', 'the registration response has an invalid client_secret')
  }
  return body as Record<string, unknown> & { client_id: string }
}

/**
 * Whether a stored dynamic registration still fits a redirect URI: it is registered, or it
 * differs only in the port of a loopback IP redirect (RFC 8252 §7.3: any port is accepted).
 */
export function registrationCoversRedirect(client: StoredClient, redirectUri: string): boolean {
  const registered = client.redirect_uris ?? []
  if (registered.includes(redirectUri)) return true
  const strip = (uri: string): string | undefined => {
    try {
      const url = new URL(uri)
      if (url.protocol !== 'http:' || (url.hostname !== '127.0.0.1' && url.hostname !== '[::1]')) {
        return undefined
      }
      url.port = ''
      return url.href
    } catch {
      return undefined
    }
  }
  const wanted = strip(redirectUri)
  return wanted !== undefined && registered.some((uri) => strip(uri) === wanted)
}

/** Whether a registered secret has expired (RFC 7591 §3.2.1), at `nowMs`. */
export function isClientSecretExpired(client: StoredClient, nowMs: number): boolean {
  const expiresAt = client.client_secret_expires_at
  return expiresAt !== undefined && expiresAt !== 0 && expiresAt * 1000 <= nowMs
}
