/**
 * Which scopes to request: on the first authorization, and when stepping up.
 *
 * @see [MCP Authorization: Scope Selection Strategy](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-selection-strategy)
 * @module
 */

import { parseScope, unionScopes } from '../protocol/scope.js'

/** Inputs of {@link initialScopes}. */
export interface InitialScopeInput {
  /** The `scope` of the `WWW-Authenticate` challenge. */
  challengeScope?: string | undefined
  /** The Protected Resource Metadata's `scopes_supported`. */
  resourceScopes?: readonly string[] | undefined
  /** The Authorization Server Metadata's `scopes_supported`. */
  serverScopes?: readonly string[] | undefined
  /** Whether the client wants refresh tokens (adds `offline_access` when the server lists it). */
  offlineAccess: boolean
}

/**
 * The scopes of the first authorization request: the challenge's `scope`; else every scope of
 * the resource's `scopes_supported`; else none (the `scope` parameter is omitted). `offline_access`
 * is added only when scopes are requested and the authorization server lists it.
 *
 * @see [MCP Authorization: Scope Selection Strategy](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-selection-strategy)
 * @see [MCP 2026-07-28 Authorization: refresh tokens (SEP-2207)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) `offline_access` only when listed
 */
export function initialScopes(input: InitialScopeInput): string[] {
  const challenged = parseScope(input.challengeScope)
  const scopes = challenged.length > 0 ? challenged : [...(input.resourceScopes ?? [])]
  return withOfflineAccess(scopes, input.serverScopes, input.offlineAccess)
}

/**
 * The scopes of a step-up authorization: the union of the scopes requested before and the
 * challenge's. Without a `scope` in the challenge, the resource's `scopes_supported` stands in.
 *
 * @see [MCP 2026-07-28 Authorization: Step-Up (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) union of previous and challenged scopes
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) `insufficient_scope`
 */
export function stepUpScopes(input: {
  previous?: string | undefined
  challengeScope?: string | undefined
  resourceScopes?: readonly string[] | undefined
  serverScopes?: readonly string[] | undefined
  offlineAccess: boolean
}): string[] {
  const challenged = parseScope(input.challengeScope)
  const extra = challenged.length > 0 ? challenged : [...(input.resourceScopes ?? [])]
  return withOfflineAccess(
    unionScopes(parseScope(input.previous), extra),
    input.serverScopes,
    input.offlineAccess,
  )
}

function withOfflineAccess(
  scopes: string[],
  serverScopes: readonly string[] | undefined,
  offlineAccess: boolean,
): string[] {
  if (!offlineAccess || scopes.length === 0 || !serverScopes?.includes('offline_access')) return scopes
  return unionScopes(scopes, ['offline_access'])
}
