/**
 * Where the client keeps what it learns: tokens per (authorization server, resource), client
 * registrations per authorization server, and which authorization server and resource identifier
 * an MCP endpoint resolved to. The interface is small so that hosts can keep credentials in their
 * own vault; {@link createMemoryCredentialStore} is the in-process implementation and the Node
 * encrypted file store (`portcullis/node`) the persistent one.
 *
 * @see [MCP Authorization: Client Registration (SEP-2352)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization/client-registration) credentials are keyed by the issuer
 * @module
 */

import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import type { TokenEndpointAuthMethod } from '../protocol/client-metadata.js'

/**
 * Tokens issued by one authorization server for one resource. Never sent to another issuer or
 * another resource.
 */
export interface StoredTokens {
  /** Issuer identifier of the authorization server that minted the tokens. */
  issuer: string
  /** The resource identifier (RFC 8707) the tokens were requested for. */
  resource: string
  access_token: string
  /** `Bearer` or `DPoP`, as the token endpoint answered. */
  token_type: string
  refresh_token?: string
  /** Expiry of the access token, in milliseconds since the epoch. */
  expires_at?: number
  /** Scopes granted, when the server said (space-delimited). */
  scope?: string
  /** Scopes requested (space-delimited): the base of a step-up union. */
  requested_scope?: string
  /** JWK thumbprint of the DPoP key the tokens are bound to. */
  dpop_jkt?: string
}

/** How the client identifies itself to one authorization server. */
export interface StoredClient {
  /** The authorization server the registration belongs to (SEP-2352). */
  issuer: string
  client_id: string
  client_secret?: string
  token_endpoint_auth_method: TokenEndpointAuthMethod
  /** Where the identity came from. Pre-registered identities are never discarded. */
  source: 'pre-registered' | 'metadata-document' | 'dynamic'
  redirect_uris?: string[]
  /** Seconds since the epoch; 0 or absent means the secret does not expire. */
  client_secret_expires_at?: number
}

/**
 * What an MCP endpoint resolved to during discovery, so a later start needs no discovery.
 */
export interface ServerBinding {
  /** The MCP endpoint URL as the client uses it. */
  server_url: string
  /** The resource identifier sent as `resource` (the metadata's `resource`, verbatim). */
  resource: string
  /** The chosen authorization server's issuer identifier. */
  issuer: string
  /** The validated Authorization Server Metadata (or the 2025-03-26 defaults). */
  authorization_server: AuthorizationServerMetadata
  /** Whether the metadata came from the 2025-03-26 default endpoints. */
  legacy?: boolean
  /** URL the Protected Resource Metadata was read from, if any. */
  resource_metadata_url?: string
  /** The metadata's `scopes_supported`, for scope selection. */
  scopes_supported?: string[]
  /** Whether the resource asked for DPoP-bound tokens. */
  dpop?: boolean
}

/**
 * Storage for client credentials. Implementations must keep secrets confidential at rest.
 *
 * `lock` is optional: when present, the client runs every refresh and every login for a key
 * inside it, and re-reads the tokens first, so processes sharing the store never spend a rotating
 * refresh token twice.
 */
export interface CredentialStore {
  getTokens(issuer: string, resource: string): Promise<StoredTokens | undefined>
  setTokens(tokens: StoredTokens): Promise<void>
  deleteTokens(issuer: string, resource: string): Promise<void>
  getClient(issuer: string): Promise<StoredClient | undefined>
  setClient(client: StoredClient): Promise<void>
  deleteClient(issuer: string): Promise<void>
  getServer(serverUrl: string): Promise<ServerBinding | undefined>
  setServer(binding: ServerBinding): Promise<void>
  deleteServer(serverUrl: string): Promise<void>
  /** Runs `fn` while holding an exclusive lock named `key`, across every user of the store. */
  lock?<T>(key: string, fn: () => Promise<T>): Promise<T>
}

const SEP = '\u0000'

/**
 * A credential store in process memory. Values are copied in and out, so callers cannot mutate
 * what is stored. Nothing survives the process.
 */
export function createMemoryCredentialStore(): CredentialStore {
  const tokens = new Map<string, StoredTokens>()
  const clients = new Map<string, StoredClient>()
  const servers = new Map<string, ServerBinding>()
  const copy = <T>(value: T | undefined): T | undefined =>
    value === undefined ? undefined : structuredClone(value)
  return {
    getTokens: async (issuer, resource) => copy(tokens.get(`${issuer}${SEP}${resource}`)),
    setTokens: async (value) => {
      tokens.set(`${value.issuer}${SEP}${value.resource}`, structuredClone(value))
    },
    deleteTokens: async (issuer, resource) => {
      tokens.delete(`${issuer}${SEP}${resource}`)
    },
    getClient: async (issuer) => copy(clients.get(issuer)),
    setClient: async (value) => {
      clients.set(value.issuer, structuredClone(value))
    },
    deleteClient: async (issuer) => {
      clients.delete(issuer)
    },
    getServer: async (serverUrl) => copy(servers.get(serverUrl)),
    setServer: async (value) => {
      servers.set(value.server_url, structuredClone(value))
    },
    deleteServer: async (serverUrl) => {
      servers.delete(serverUrl)
    },
  }
}

/**
 * Runs `fn` at most once at a time per key inside this process: callers that arrive while it
 * runs share its result.
 */
export function createSingleFlight(): <T>(key: string, fn: () => Promise<T>) => Promise<T> {
  const running = new Map<string, Promise<unknown>>()
  return <T>(key: string, fn: () => Promise<T>): Promise<T> => {
    const current = running.get(key)
    if (current !== undefined) return current as Promise<T>
    const promise = (async () => {
      try {
        return await fn()
      } finally {
        running.delete(key)
      }
    })()
    running.set(key, promise)
    return promise
  }
}
