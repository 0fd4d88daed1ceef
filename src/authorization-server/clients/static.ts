/**
 * Pre-registered clients from configuration: validated at construction, secrets kept only as
 * hashes.
 *
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { sha256 } from '../../protocol/random.js'
import type { Client } from '../context.js'
import { AuthorizationServerError } from '../errors.js'
import type { StaticClientOptions } from '../options.js'
import { toClient, validateRegistrationMetadata } from './client-model.js'

/** Looks up configured clients. */
export interface StaticClients {
  get(clientId: string): Promise<Client | undefined>
}

/**
 * Validates the configured clients (throws `ERR_INVALID_OPTIONS` at construction) and returns
 * their lookup.
 */
export function createStaticClients(list: readonly StaticClientOptions[] = []): StaticClients {
  const clients = new Map<string, Promise<Client>>()
  for (const [index, entry] of list.entries()) {
    const { client_id, client_secret, ...metadata } = entry
    if (typeof client_id !== 'string' || client_id === '' || clients.has(client_id)) {
      throw new AuthorizationServerError(
        'ERR_INVALID_OPTIONS',
        `clients[${index}].client_id is missing or repeated`,
      )
    }
    let validated: ReturnType<typeof validateRegistrationMetadata>
    try {
      validated = validateRegistrationMetadata(
        metadata,
        client_secret === undefined ? 'none' : 'client_secret_basic',
      )
    } catch (error) {
      throw new AuthorizationServerError(
        'ERR_INVALID_OPTIONS',
        `clients[${index}]: ${error instanceof OAuthError ? (error.description ?? error.code) : 'invalid metadata'}`,
      )
    }
    const method = validated.token_endpoint_auth_method
    const needsSecret = method === 'client_secret_basic' || method === 'client_secret_post'
    if (needsSecret !== (client_secret !== undefined)) {
      throw new AuthorizationServerError(
        'ERR_INVALID_OPTIONS',
        `clients[${index}]: a client_secret goes with client_secret_basic or client_secret_post, and only with them`,
      )
    }
    if (client_secret !== undefined && client_secret.length < 16) {
      throw new AuthorizationServerError(
        'ERR_INVALID_OPTIONS',
        `clients[${index}].client_secret is too short`,
      )
    }
    const client =
      client_secret === undefined
        ? Promise.resolve(toClient('static', client_id, validated))
        : sha256(client_secret).then((hash) => toClient('static', client_id, validated, hash))
    clients.set(client_id, client)
  }
  return {
    get(clientId) {
      return clients.get(clientId) ?? Promise.resolve(undefined)
    },
  }
}
