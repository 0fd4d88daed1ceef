/**
 * Fetching the JSON documents a verifier depends on (AS metadata, JWKS) through the injected
 * `fetch`, with a time budget, a size cap, no redirects, and errors that mean "unavailable".
 *
 * @module
 */

import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import { validateAuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import { authorizationServerMetadataUrls } from '../protocol/well-known.js'
import { TokenVerificationError } from './errors.js'

/** A `fetch`-compatible function. On Node, pass the SSRF-safe fetch (`portcullis/node`). */
export type FetchLike = (input: string | URL | Request, init?: RequestInit) => Promise<Response>

/** The code a failure to obtain a document maps to. */
export type UnavailableCode = 'ERR_JWKS_UNAVAILABLE' | 'ERR_INTROSPECTION_UNAVAILABLE'

/** Limits of {@link fetchJson}. */
export interface FetchJsonLimits {
  /** Time budget in milliseconds. */
  timeoutMs: number
  /** Largest document read, in bytes. */
  maxBytes: number
}

/** A `TokenVerificationError` meaning the document could not be obtained. */
export function unavailable(code: UnavailableCode, detail: string, cause?: unknown): TokenVerificationError {
  return new TokenVerificationError(code, cause === undefined ? { detail } : { detail, cause })
}

/**
 * GETs `url` and parses the JSON body. Anything but `200` (redirects included: they are not
 * followed), a body over the cap, a timeout or malformed JSON is `code`.
 */
export async function fetchJson(
  fetch: FetchLike,
  url: string,
  limits: FetchJsonLimits,
  code: UnavailableCode,
  what: string,
): Promise<unknown> {
  let response: Response
  try {
    response = await fetch(url, {
      headers: { accept: 'application/json' },
      redirect: 'manual',
      signal: AbortSignal.timeout(limits.timeoutMs),
    })
  } catch (error) {
    throw unavailable(code, `${what}: fetch failed`, error)
  }
  return readJson(response, limits, code, what)
}

/** Reads a `200` JSON response within the size cap. */
export async function readJson(
  response: Response,
  limits: Pick<FetchJsonLimits, 'maxBytes'>,
  code: UnavailableCode,
  what: string,
): Promise<unknown> {
  if (response.status !== 200) {
    await response.body?.cancel()
    throw unavailable(code, `${what}: HTTP ${response.status}`)
  }
  const declared = response.headers.get('content-length')
  if (declared !== null && Number(declared) > limits.maxBytes) {
    await response.body?.cancel()
    throw unavailable(code, `${what}: document too large`)
  }
  let text: string
  try {
    text = await response.text()
  } catch (error) {
    throw unavailable(code, `${what}: body unreadable`, error)
  }
  if (text.length > limits.maxBytes) throw unavailable(code, `${what}: document too large`)
  try {
    return JSON.parse(text)
  } catch (error) {
    throw unavailable(code, `${what}: not JSON`, error)
  }
}

/**
 * Fetches and validates the metadata of `issuer` from its well-known URLs in order (RFC 8414,
 * then OpenID Connect Discovery), refusing a document that names another issuer.
 *
 * @see [RFC 8414 §3](https://www.rfc-editor.org/rfc/rfc8414#section-3)
 * @see [RFC 8414 §3.3](https://www.rfc-editor.org/rfc/rfc8414#section-3.3) issuer identical
 */
export async function discoverAuthorizationServer(
  fetch: FetchLike,
  issuer: string,
  limits: FetchJsonLimits,
  code: UnavailableCode,
): Promise<AuthorizationServerMetadata> {
  let lastError: unknown
  for (const candidate of authorizationServerMetadataUrls(issuer)) {
    try {
      const json = await fetchJson(fetch, candidate.url, limits, code, 'authorization server metadata')
      return validateAuthorizationServerMetadata(json, { expectedIssuer: issuer, requireS256: false })
    } catch (error) {
      lastError = error
    }
  }
  throw lastError instanceof TokenVerificationError
    ? lastError
    : unavailable(code, 'authorization server metadata unusable', lastError)
}
