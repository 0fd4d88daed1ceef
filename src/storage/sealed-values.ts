/**
 * Encryption of the values a store keeps as ciphertext: signing keys' private halves and the
 * proxy's upstream tokens. Each ciphertext is bound to its kind and row id.
 *
 * @module
 */

import { decrypt, encrypt, type Keyring, recordAad } from './crypto.js'
import type { JsonObject } from './types.js'

/** Encrypts a private JWK for the signing-key row `kid`. */
export function sealPrivateJwk(keys: Keyring, kid: string, jwk: JsonWebKey): Promise<string> {
  return encrypt(keys.current, JSON.stringify(jwk), recordAad('signing_key', kid))
}

/** Decrypts a private JWK of the signing-key row `kid`. */
export async function openPrivateJwk(keys: Keyring, kid: string, sealed: string): Promise<JsonWebKey> {
  return JSON.parse(await decrypt(keys, sealed, recordAad('signing_key', kid))) as JsonWebKey
}

/** Encrypts upstream tokens for the grant `grantId`. */
export function sealUpstreamTokens(keys: Keyring, grantId: string, tokens: JsonObject): Promise<string> {
  return encrypt(keys.current, JSON.stringify(tokens), recordAad('upstream_tokens', grantId))
}

/** Decrypts upstream tokens of the grant `grantId`. */
export async function openUpstreamTokens(
  keys: Keyring,
  grantId: string,
  sealed: string,
): Promise<JsonObject> {
  return JSON.parse(await decrypt(keys, sealed, recordAad('upstream_tokens', grantId))) as JsonObject
}
