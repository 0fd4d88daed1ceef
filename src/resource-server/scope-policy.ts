/**
 * Which scopes an MCP request needs: a default set for every request, plus per-method and
 * per-tool requirements read from the JSON-RPC body.
 *
 * @see [MCP 2026-07-28 Authorization: scope challenges (SEP-2350)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 * @module
 */

import { readUpTo } from '../protocol/read-up-to.js'
import { isValidScopeToken, type ScopeHierarchy } from '../protocol/scope.js'
import { invalidOptions } from './errors.js'

/**
 * The scopes each MCP request needs.
 *
 * A request needs `default`, plus `methods[method]` for each JSON-RPC message's method, plus
 * `tools[name]` for each `tools/call` message's `params.name`. A batch needs the union over all
 * of its messages, so a call that needs more scope cannot hide behind an allowed one.
 *
 * @example
 * ```ts
 * const policy: ScopePolicy = {
 *   default: ['files:read'],
 *   tools: { delete_file: ['files:write'] },
 *   hierarchy: { 'files:write': ['files:read'] },
 * }
 * ```
 */
export interface ScopePolicy {
  /** Scopes every request needs (may be empty: a valid token for this resource is then enough). */
  default: readonly string[]
  /** Extra scopes per JSON-RPC method, e.g. `{ 'resources/read': ['docs:read'] }`. */
  methods?: Readonly<Record<string, readonly string[]>>
  /** Extra scopes per tool name, for `tools/call`. */
  tools?: Readonly<Record<string, readonly string[]>>
  /** Broad scopes and the narrower ones they imply, used when checking a token's grant. */
  hierarchy?: ScopeHierarchy
}

/** A policy checked once and prepared for fast lookups. */
export interface CompiledScopePolicy {
  readonly default: readonly string[]
  readonly methods: ReadonlyMap<string, readonly string[]>
  readonly tools: ReadonlyMap<string, readonly string[]>
  readonly hierarchy: ScopeHierarchy | undefined
  /** Whether any requirement depends on the body (so the body must be read). */
  readonly readsBody: boolean
}

function checkScopes(list: unknown, where: string): readonly string[] {
  if (!Array.isArray(list)) invalidOptions(`scope policy: ${where} must be an array of scopes`)
  for (const scope of list as unknown[]) {
    if (typeof scope !== 'string' || !isValidScopeToken(scope)) {
      invalidOptions(`scope policy: ${where} holds an invalid scope-token (RFC 6749 §3.3)`)
    }
  }
  return [...new Set(list as string[])]
}

function compileMap(record: Readonly<Record<string, readonly string[]>> | undefined, where: string) {
  const map = new Map<string, readonly string[]>()
  if (record === undefined) return map
  if (typeof record !== 'object' || record === null)
    invalidOptions(`scope policy: ${where} must be an object`)
  for (const [key, scopes] of Object.entries(record)) map.set(key, checkScopes(scopes, `${where}.${key}`))
  return map
}

/**
 * Checks a {@link ScopePolicy} (every entry a valid scope-token, `offline_access` nowhere) and
 * compiles it.
 *
 * @throws {ResourceServerError} `ERR_INVALID_OPTIONS`
 */
export function compileScopePolicy(policy: ScopePolicy): CompiledScopePolicy {
  if (typeof policy !== 'object' || policy === null) invalidOptions('scope policy: missing')
  const compiled = {
    default: checkScopes(policy.default, 'default'),
    methods: compileMap(policy.methods, 'methods'),
    tools: compileMap(policy.tools, 'tools'),
    hierarchy: policy.hierarchy,
  }
  const all = [compiled.default, ...compiled.methods.values(), ...compiled.tools.values()].flat()
  // MCP 2026-07-28 (SEP-2207): offline_access is not a resource requirement.
  if (all.includes('offline_access')) invalidOptions('scope policy: offline_access is not a resource scope')
  return { ...compiled, readsBody: compiled.methods.size > 0 || compiled.tools.size > 0 }
}

/**
 * The scopes a parsed JSON-RPC body (one message or a batch) needs under `policy`: the default
 * set, then each message's method and tool requirements, de-duplicated in that order. Values
 * that are not JSON-RPC messages add nothing: the MCP handler rejects them.
 */
export function scopesForMessages(policy: CompiledScopePolicy, body: unknown): string[] {
  const out = new Set(policy.default)
  const messages = Array.isArray(body) ? body : [body]
  for (const message of messages) {
    if (typeof message !== 'object' || message === null) continue
    const method = (message as { method?: unknown }).method
    if (typeof method !== 'string') continue
    const forMethod = policy.methods.get(method)
    if (forMethod !== undefined) for (const scope of forMethod) out.add(scope)
    if (method !== 'tools/call') continue
    const params = (message as { params?: unknown }).params
    const name =
      typeof params === 'object' && params !== null ? (params as { name?: unknown }).name : undefined
    if (typeof name !== 'string') continue
    const forTool = policy.tools.get(name)
    if (forTool !== undefined) for (const scope of forTool) out.add(scope)
  }
  return [...out]
}

/** The body was larger than the limit: the request is refused rather than guessed at. */
export const BODY_TOO_LARGE = Symbol('body too large')

/**
 * The scopes `request` needs under `policy`. The body is read from `request.clone()`, so it
 * stays readable for the MCP handler, and only when the policy has per-method or per-tool
 * entries. Every body that parses as JSON is looked at, whatever its `Content-Type` claims, so
 * a call cannot slip past the policy under a media type the handler happens to accept. A body
 * that does not parse needs the default set (the handler refuses it as a parse error).
 */
export async function scopesForRequest(
  request: Request,
  policy: CompiledScopePolicy,
  maxBodyBytes: number,
): Promise<string[] | typeof BODY_TOO_LARGE> {
  if (!policy.readsBody || request.body === null) return [...policy.default]
  const text = await readBounded(request.clone(), maxBodyBytes)
  if (text === BODY_TOO_LARGE) return BODY_TOO_LARGE
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    return [...policy.default]
  }
  return scopesForMessages(policy, body)
}

async function readBounded(request: Request, maxBytes: number): Promise<string | typeof BODY_TOO_LARGE> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > maxBytes) return BODY_TOO_LARGE
  // `request` is a clone: readUpTo does not wait on the cancel, which would wait for the original.
  const bytes = await readUpTo(request.body, maxBytes)
  return bytes === undefined ? BODY_TOO_LARGE : new TextDecoder().decode(bytes)
}
