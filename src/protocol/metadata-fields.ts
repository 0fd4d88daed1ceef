/**
 * Building blocks shared by the metadata validators and the well-known URL builders: the URL
 * rules for values read from (or used to fetch) a metadata document, and zod helpers.
 *
 * Internal to `src/protocol`; not re-exported from the package.
 *
 * @module
 */

import { z } from 'zod'
import { ProtocolError } from './errors.js'
import { hasControlOrSpace, hasOnlyUriCharacters, SCHEME_SYNTAX, splitUri } from './uri-components.js'

/** What {@link parseHttpUrl} accepts beyond the default. */
export interface HttpUrlOptions {
  /** Whether a query component is allowed. Default true. */
  allowQuery?: boolean
}

/** An absolute `http(s)` URL, as written and as parsed. */
export interface ParsedHttpUrl {
  url: URL
  /** Lower-cased scheme without `:`. */
  scheme: 'http' | 'https'
  /** The path exactly as written (may be empty). */
  path: string
  /** The query as written, without `?`; `undefined` when there is no `?`. */
  query: string | undefined
}

function invalidUrl(reason: string): ProtocolError {
  // The input is never echoed: it may come from an attacker-controlled document.
  return new ProtocolError('ERR_INVALID_URL', `invalid URL: ${reason}`)
}

/**
 * Parses an absolute `http:` or `https:` URL, judged on the raw string before the WHATWG parser
 * rewrites it. Refused: anything but `http`/`https` (so `javascript:`, `file:`, `data:` however
 * spelled), whitespace, control characters, `\`, characters outside RFC 3986, a missing host,
 * userinfo, any fragment (even an empty `#`), dot segments in the path (`fetch` would resolve
 * them to another path), and a query unless allowed.
 *
 * @throws {ProtocolError} `ERR_INVALID_URL`
 * @see [RFC 3986 §3](https://www.rfc-editor.org/rfc/rfc3986#section-3)
 * @see [RFC 6749 §3.1](https://www.rfc-editor.org/rfc/rfc6749#section-3.1) endpoint URIs carry no fragment
 */
export function parseHttpUrl(input: unknown, options: HttpUrlOptions = {}): ParsedHttpUrl {
  if (typeof input !== 'string' || input.length === 0) throw invalidUrl('not a non-empty string')
  if (hasControlOrSpace(input) || input.includes('\\')) {
    throw invalidUrl('contains whitespace, control characters or a backslash')
  }
  if (!hasOnlyUriCharacters(input)) throw invalidUrl('contains characters outside RFC 3986')
  const parts = splitUri(input)
  if (parts.scheme === undefined || !SCHEME_SYNTAX.test(parts.scheme)) throw invalidUrl('not an absolute URL')
  const scheme = parts.scheme.toLowerCase()
  if (scheme !== 'https' && scheme !== 'http') throw invalidUrl('scheme must be https or http')
  // Without `//` the WHATWG parser would invent an authority (`https:host` → `https://host/`).
  if (parts.authority === undefined || parts.authority.length === 0) throw invalidUrl('missing host')
  if (parts.authority.includes('@')) throw invalidUrl('userinfo is not allowed')
  if (parts.fragment !== undefined) throw invalidUrl('a fragment is not allowed')
  if (parts.query !== undefined && options.allowQuery === false) throw invalidUrl('a query is not allowed')
  if (hasDotSegment(parts.path)) throw invalidUrl('dot segments are not allowed in the path')
  let url: URL
  try {
    url = new URL(input)
  } catch {
    throw invalidUrl('not a valid URL')
  }
  if (url.username !== '' || url.password !== '' || url.hostname === '') throw invalidUrl('invalid authority')
  return { url, scheme, path: parts.path, query: parts.query }
}

/** Whether a path has a `.` or `..` segment, also percent-encoded (`%2e`, `%2E%2e`). */
export function hasDotSegment(path: string): boolean {
  return path.split('/').some((segment) => {
    const s = segment.replace(/%2e/gi, '.')
    return s === '.' || s === '..'
  })
}

/** Bounds attacker-supplied text put in an error's `detail`. */
export function truncateForDetail(text: string, maxLength = 200): string {
  return text.length > maxLength ? `${text.slice(0, maxLength - 3)}...` : text
}

/** Why `value` is not an acceptable URL for {@link parseHttpUrl}, or `undefined` when it is. */
export function urlProblem(value: unknown, options: HttpUrlOptions = {}): string | undefined {
  try {
    parseHttpUrl(value, options)
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : 'invalid URL'
  }
}

/** The first member of `fields` present in `doc` whose value is not an acceptable URL. */
export function firstBadUrlField(
  doc: Readonly<Record<string, unknown>>,
  fields: readonly string[],
): { field: string; reason: string } | undefined {
  for (const field of fields) {
    const reason = doc[field] === undefined ? undefined : urlProblem(doc[field])
    if (reason !== undefined) return { field, reason }
  }
  return undefined
}

/** A JSON array of strings. Unknown values are kept: their meaning is for the consumer to judge. */
export const stringArray = z.array(z.string())

/** `{ [key]: type.optional() }` for every key: the optional members of one type in a schema. */
export function optionalMembers<const K extends string, T extends z.ZodType>(
  keys: readonly K[],
  type: T,
): Record<K, z.ZodOptional<T>> {
  return Object.fromEntries(keys.map((key) => [key, type.optional()])) as Record<K, z.ZodOptional<T>>
}

/** Whether `value` is a JSON object (not an array, not null). */
export function isJsonObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Parses `json` as a JSON object with `schema`, or throws `fail(detail)`. The detail names the
 * first failing member as `field[0].sub: message`: member names come from our schemas (unknown
 * members are never validated), and zod's default messages name types, not input values.
 */
export function parseJsonObject<S extends z.ZodType>(
  schema: S,
  json: unknown,
  fail: (detail: string) => Error,
): z.output<S> {
  if (!isJsonObject(json)) throw fail('not a JSON object')
  const result = schema.safeParse(json)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  let path = ''
  for (const key of issue?.path ?? []) {
    path += typeof key === 'number' ? `[${key}]` : path === '' ? String(key) : `.${String(key)}`
  }
  const message = issue?.message ?? 'invalid document'
  throw fail(path === '' ? message : `${path}: ${message}`)
}
