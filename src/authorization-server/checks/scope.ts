/**
 * Requested scopes: known to the resource, allowed for the client.
 *
 * @see [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3)
 * @module
 */
import { OAuthError, ProtocolError } from '../../protocol/errors.js'
import { parseScope } from '../../protocol/scope.js'
import type { Client } from '../context.js'
import type { ResolvedResource } from '../options.js'

// Refresh tokens follow the client's registered grant types, not a scope; the scope is accepted
// and ignored (RFC 6749 §3.3 lets the server narrow the requested scope).
const IGNORED = new Set(['offline_access'])

/**
 * The scopes to grant: the requested ones (or the resource's defaults when none are asked for), each
 * known to the resource and, when the client registered a `scope`, within it. Anything else is
 * `invalid_scope`. Pure.
 */
export function resolveScopes(
  resource: ResolvedResource,
  requested: string | undefined,
  client: Client,
): string[] {
  let asked: string[]
  try {
    asked = parseScope(requested).filter((s) => !IGNORED.has(s))
  } catch (error) {
    if (error instanceof ProtocolError)
      throw new OAuthError('invalid_scope', 'the scope parameter is malformed')
    throw error
  }
  const registered =
    client.metadata.scope === undefined ? undefined : new Set(parseScope(client.metadata.scope))
  if (asked.length === 0) {
    const defaults = resource.defaultScopes.filter((s) => registered === undefined || registered.has(s))
    return defaults
  }
  for (const s of asked) {
    if (!resource.scopes.has(s))
      throw new OAuthError('invalid_scope', 'a requested scope is not offered by the resource')
    if (registered !== undefined && !registered.has(s)) {
      throw new OAuthError('invalid_scope', 'a requested scope is not registered for the client')
    }
  }
  return asked
}
