/**
 * HTTP helpers shared by the endpoints: JSON answers with the right cache headers, OAuth error
 * answers, and bounded body parsing with the duplicate-parameter rule.
 *
 * @module
 */
import { OAuthError } from '../protocol/errors.js'
import { readUpTo } from '../protocol/read-up-to.js'
import { deferredResponse } from './deferred-response.js'

/**
 * Headers of every token-bearing answer.
 *
 * @see [RFC 6749 §5.1](https://www.rfc-editor.org/rfc/rfc6749#section-5.1) "Cache-Control: no-store"
 */
export const NO_STORE: Readonly<Record<string, string>> = { 'cache-control': 'no-store', pragma: 'no-cache' }

/**
 * A JSON response. Its web `Response` is built only if someone needs more than status, headers
 * and text (see `deferred-response.ts`).
 */
export function jsonResponse(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return deferredResponse(
    JSON.stringify(body),
    status,
    new Headers({ 'content-type': 'application/json', ...headers }),
  )
}

/**
 * The JSON error answer of the token, registration, revocation and introspection endpoints, with
 * `Cache-Control: no-store`. `invalid_client` carries a `WWW-Authenticate` challenge so MCP clients
 * know the registration is gone.
 *
 * @see [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2)
 */
export function oauthErrorResponse(error: OAuthError, issuer: string): Response {
  const headers: Record<string, string> = { ...NO_STORE }
  if (error.code === 'invalid_client' && error.status === 401) {
    // RFC 6749 §5.2: 401 with a WWW-Authenticate matching the scheme the client may use.
    headers['www-authenticate'] = `Basic realm="${issuer.replace(/["\\]/g, '')}", error="invalid_client"`
  }
  return jsonResponse(error.toJSON(), error.status, headers)
}

/** `invalid_request` with a fixed description. */
export function invalidRequest(description: string): OAuthError {
  return new OAuthError('invalid_request', description)
}

/** A required form parameter; `invalid_request` when it is missing (RFC 6749 §5.2). */
export function requiredParam(params: ReadonlyMap<string, string>, name: string): string {
  const value = params.get(name)
  if (value === undefined) throw invalidRequest(`${name} is required`)
  return value
}

const FORM_TYPE = 'application/x-www-form-urlencoded'
const MAX_FORM_BYTES = 64 * 1024

/** Reads at most `max` bytes of a body; throws `invalid_request` beyond. */
export async function readBodyText(request: Request, max: number): Promise<string> {
  const declared = request.headers.get('content-length')
  if (declared !== null && Number(declared) > max) throw invalidRequest('request body is too large')
  // A declared length within the limit: HTTP framing holds the body to it, so it is read at once.
  if (declared !== null && /^\d+$/.test(declared)) {
    const text = await request.text()
    if (text.length > max) throw invalidRequest('request body is too large')
    return text
  }
  const bytes = await readUpTo(request.body, max)
  if (bytes === undefined) throw invalidRequest('request body is too large')
  return new TextDecoder().decode(bytes)
}

/** Whether the media type (parameters ignored, case-insensitive) is `type`. */
export function hasMediaType(request: Request, type: string): boolean {
  const value = request.headers.get('content-type')
  if (value === null) return false
  return value.split(';')[0]!.trim().toLowerCase() === type
}

/**
 * Parameters of a form POST as a map of single values. A repeated parameter is an
 * `invalid_request` (RFC 6749 §3.1: "MUST NOT be included more than once"), except those listed
 * in `repeatable` (e.g. RFC 8707 `resource`), which are returned joined in `multi`.
 */
export async function readForm(
  request: Request,
  repeatable: readonly string[] = [],
): Promise<{ params: Map<string, string>; multi: Map<string, string[]> }> {
  if (request.method !== 'POST') throw invalidRequest('the request must be a POST')
  if (!hasMediaType(request, FORM_TYPE)) throw invalidRequest(`the request body must be ${FORM_TYPE}`)
  return parseParams(new URLSearchParams(await readBodyText(request, MAX_FORM_BYTES)), repeatable)
}

/** Single-valued parameters, refusing repeats (see {@link readForm}). Empty values count as absent. */
export function parseParams(
  search: URLSearchParams,
  repeatable: readonly string[] = [],
): { params: Map<string, string>; multi: Map<string, string[]> } {
  const params = new Map<string, string>()
  const multi = new Map<string, string[]>()
  for (const [name, value] of search) {
    if (value === '') continue
    if (repeatable.includes(name)) {
      multi.set(name, [...(multi.get(name) ?? []), value])
      continue
    }
    if (params.has(name)) throw invalidRequest(`parameter ${sanitizeName(name)} is repeated`)
    params.set(name, value)
  }
  return { params, multi }
}

function sanitizeName(name: string): string {
  return /^[a-z_]{1,40}$/.test(name) ? name : 'a parameter'
}
