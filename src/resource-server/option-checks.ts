/**
 * The checks that the resource server's factories run on their options, so each refuses a bad
 * configuration at construction with the same words (fail closed).
 *
 * @module
 */
import { assertSecureEndpoint } from '../protocol/authorization-server-metadata.js'
import { canonicalResource } from '../protocol/resource.js'
import { invalidOptions } from './errors.js'

/** `value` when it is a non-empty string; `ERR_INVALID_OPTIONS` naming `name` otherwise. */
export function requiredString(value: unknown, name: string): string {
  if (typeof value !== 'string' || value === '') invalidOptions(`${name} is required`)
  return value
}

/**
 * The canonical form of a required resource identifier option (an `audience` or a `resource`).
 *
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2) resource identifiers
 */
export function requiredResource(value: unknown, name: string): string {
  const given = requiredString(value, name)
  try {
    return canonicalResource(given)
  } catch (error) {
    invalidOptions(`${name} is not a valid resource identifier`, (error as Error).message)
  }
}

/** Refuses a URL option that is not `https:` (`http:` only on loopback). */
export function checkSecureUrl(value: string, name: string): void {
  try {
    assertSecureEndpoint(value, { allowHttpLoopback: true })
  } catch (error) {
    invalidOptions(`${name} must be an https URL (http only on loopback)`, (error as Error).message)
  }
}
