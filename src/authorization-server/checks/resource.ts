/**
 * The `resource` parameter: one of the configured resources, compared in canonical form.
 *
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2) `invalid_target`
 * @see [MCP Authorization: Resource Parameter](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#resource-parameter-implementation)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { canonicalResource } from '../../protocol/resource.js'
import type { ResolvedResource } from '../options.js'

/**
 * The configured resource a request names. No value means `fallback` (the configured default, or
 * the resource a grant is bound to); more than one value, an unknown or malformed one is
 * `invalid_target`. Pure: nothing is read or written, so it runs before any state changes (S12).
 */
export function resolveResource(
  resources: readonly ResolvedResource[],
  values: readonly string[] | undefined,
  fallback: ResolvedResource | undefined,
): ResolvedResource {
  if (values === undefined || values.length === 0) {
    if (fallback === undefined) throw new OAuthError('invalid_target', 'the resource parameter is required')
    return fallback
  }
  // One token has one audience: a request for several resources is refused, not merged.
  if (values.length > 1) throw new OAuthError('invalid_target', 'only one resource may be requested')
  // A value already in canonical form is that resource: canonicalization maps it to itself.
  const exact = resources.find((r) => r.canonical === values[0])
  if (exact !== undefined) return exact
  let canonical: string
  try {
    canonical = canonicalResource(values[0]!)
  } catch {
    throw new OAuthError('invalid_target', 'the resource is not a valid resource identifier')
  }
  const found = resources.find((r) => r.canonical === canonical)
  if (found === undefined)
    throw new OAuthError('invalid_target', 'the resource is not served by this authorization server')
  return found
}

/** The configured resource whose identifier is `uri` (as stored on codes, grants and tokens). */
export function findResource(
  resources: readonly ResolvedResource[],
  uri: string,
): ResolvedResource | undefined {
  return resources.find((r) => r.uri === uri)
}
