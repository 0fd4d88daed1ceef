/**
 * OAuth scope values: parsing, serialization, set operations and scope hierarchies.
 *
 * A scope value is a list of space-delimited, case-sensitive scope-tokens, each made of
 * NQCHAR (`%x21 / %x23-5B / %x5D-7E`). Order carries no meaning, so every function here
 * de-duplicates while keeping the first occurrence, which keeps results stable for tests and
 * for the wire.
 *
 * Wherever a function takes `Iterable<string>`, a plain string is read as a space-delimited
 * scope value, never as a sequence of characters (`'read write'` is two scopes, not ten).
 *
 * @see [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3)
 * @module
 */

import { ProtocolError } from './errors.js'

/**
 * A scope hierarchy: each broad scope maps to the narrower scopes it implies. Implication is
 * transitive (`admin → write → read` means `admin` implies `read`) and cycles are allowed
 * (scopes in a cycle imply each other).
 *
 * @example
 * ```ts
 * const hierarchy: ScopeHierarchy = { 'files:admin': ['files:write'], 'files:write': ['files:read'] }
 * hasScopes(['files:admin'], ['files:read'], hierarchy) // true
 * ```
 * @see [MCP 2026-07-28 Authorization (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) servers MUST account for scope hierarchies
 */
export type ScopeHierarchy = Readonly<Record<string, readonly string[]>>

/**
 * Whether `c` is an NQCHAR: `%x21 / %x23-5B / %x5D-7E` (printable ASCII without space, `"`
 * and `\`).
 */
function isNqchar(c: number): boolean {
  return c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)
}

/**
 * Whether `s` is one scope-token: one or more NQCHAR.
 *
 * @see [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3) `scope-token = 1*NQCHAR`
 */
export function isValidScopeToken(s: string): boolean {
  if (typeof s !== 'string' || s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    if (!isNqchar(s.charCodeAt(i))) return false
  }
  return true
}

/**
 * Parses a scope value into its scope-tokens: split on spaces, empty entries dropped (so
 * repeated, leading and trailing spaces are tolerated), duplicates removed keeping the first
 * occurrence. `undefined`, `null` and `''` give `[]`.
 *
 * @throws {ProtocolError} `ERR_INVALID_SCOPE` when a character is outside NQCHAR and is not a
 *   space (tabs, line breaks, `"`, `\`, non-ASCII).
 * @see [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3)
 */
export function parseScope(value: string | undefined | null): string[] {
  if (value === undefined || value === null) return []
  if (typeof value !== 'string') {
    throw new ProtocolError('ERR_INVALID_SCOPE', 'Scope value must be a string')
  }
  const seen = new Set<string>()
  for (const part of value.split(' ')) {
    if (part === '') continue
    if (!isValidScopeToken(part)) {
      throw new ProtocolError('ERR_INVALID_SCOPE', 'Scope value contains a character outside NQCHAR', {
        detail: `scope-token ${seen.size + 1} is not 1*NQCHAR (RFC 6749 §3.3)`,
      })
    }
    seen.add(part)
  }
  return [...seen]
}

/** Reads a scope argument: a string is a space-delimited scope value, anything else is iterated. */
function scopeList(scopes: Iterable<string>): Iterable<string> {
  return typeof scopes === 'string' ? parseScope(scopes) : scopes
}

/**
 * Serializes scope-tokens into a scope value: de-duplicated, first occurrence kept, joined by
 * single spaces. An empty list gives `''`.
 *
 * @throws {ProtocolError} `ERR_INVALID_SCOPE` when an entry is not a valid scope-token (empty,
 *   contains a space, or any character outside NQCHAR).
 * @see [RFC 6749 §3.3](https://www.rfc-editor.org/rfc/rfc6749#section-3.3)
 */
export function serializeScope(scopes: Iterable<string>): string {
  const seen = new Set<string>()
  for (const scope of scopeList(scopes)) {
    if (!isValidScopeToken(scope)) {
      throw new ProtocolError('ERR_INVALID_SCOPE', 'Not a valid scope-token', {
        detail: `entry ${seen.size + 1} is not 1*NQCHAR (RFC 6749 §3.3)`,
      })
    }
    seen.add(scope)
  }
  return [...seen].join(' ')
}

/**
 * The union of scope sets, in first-seen order. Used when re-authorizing after a step-up
 * challenge: the new request asks for the previously requested scopes plus the challenged ones.
 *
 * @see [MCP 2026-07-28 Authorization (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) step-up requests the union of previous and challenged scopes
 */
export function unionScopes(...sets: Iterable<string>[]): string[] {
  const out = new Set<string>()
  for (const set of sets) {
    for (const scope of scopeList(set)) out.add(scope)
  }
  return [...out]
}

/**
 * The granted scopes plus every scope they imply through `hierarchy`, transitively. Each scope
 * is visited once, so cyclic hierarchies terminate. Only the hierarchy's own keys are consulted
 * (a scope named `constructor` or `__proto__` implies nothing unless the hierarchy says so).
 *
 * @see [MCP 2026-07-28 Authorization (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) scope hierarchies
 */
export function expandScopes(scopes: Iterable<string>, hierarchy?: ScopeHierarchy): Set<string> {
  const expanded = new Set<string>()
  const pending: string[] = []
  for (const scope of scopeList(scopes)) {
    if (!expanded.has(scope)) {
      expanded.add(scope)
      pending.push(scope)
    }
  }
  if (hierarchy === undefined) return expanded
  while (pending.length > 0) {
    const scope = pending.pop()!
    if (!Object.hasOwn(hierarchy, scope)) continue
    const implied = hierarchy[scope]
    if (!Array.isArray(implied)) continue
    for (const narrower of implied as readonly unknown[]) {
      if (typeof narrower === 'string' && !expanded.has(narrower)) {
        expanded.add(narrower)
        pending.push(narrower)
      }
    }
  }
  return expanded
}

/**
 * The required scopes that `granted` does not cover, directly or through `hierarchy`, in the
 * order they were required (de-duplicated). Empty when the grant is enough.
 *
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) `insufficient_scope`
 * @see [MCP 2026-07-28 Authorization (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) servers MUST account for scope hierarchies
 */
export function missingScopes(
  granted: Iterable<string>,
  required: Iterable<string>,
  hierarchy?: ScopeHierarchy,
): string[] {
  const have = expandScopes(granted, hierarchy)
  const missing = new Set<string>()
  for (const scope of scopeList(required)) {
    if (!have.has(scope)) missing.add(scope)
  }
  return [...missing]
}

/**
 * Whether `granted` covers every required scope, directly or through `hierarchy`. An empty
 * requirement is always met.
 *
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) `insufficient_scope`
 * @see [MCP 2026-07-28 Authorization (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization) servers MUST account for scope hierarchies
 */
export function hasScopes(
  granted: Iterable<string>,
  required: Iterable<string>,
  hierarchy?: ScopeHierarchy,
): boolean {
  return missingScopes(granted, required, hierarchy).length === 0
}
