/**
 * Where a JWT verifier gets its keys: a local JWK Set, a `jwks_uri`, or the `jwks_uri` named in
 * the authorization server's metadata. Remote sets are fetched through the injected `fetch`,
 * cached, and refetched at most once per interval when a token names an unknown `kid`.
 *
 * @see [RFC 7517 §5](https://www.rfc-editor.org/rfc/rfc7517#section-5) JWK Set
 * @see [RFC 8414 §2](https://www.rfc-editor.org/rfc/rfc8414#section-2) `jwks_uri`
 * @module
 */

import {
  type CryptoKey,
  createLocalJWKSet,
  type FlattenedJWSInput,
  type JSONWebKeySet,
  type JWSHeaderParameters,
  type KeyObject,
} from 'jose'
import type { TokenVerificationError } from './errors.js'
import {
  discoverAuthorizationServer,
  type FetchLike,
  fetchJson,
  unavailable as unavailableError,
} from './fetch-json.js'

/** A jose key resolver. */
export type KeyResolver = (
  header: JWSHeaderParameters,
  input: FlattenedJWSInput,
) => Promise<CryptoKey | KeyObject>

/** Options of {@link createKeySource}. */
export interface KeySourceOptions {
  /** The issuer, used to find AS metadata when neither `jwks` nor `jwksUri` is given. */
  issuer: string
  jwks?: JSONWebKeySet
  jwksUri?: string
  fetch: FetchLike
  /** Least time between two fetches of a remote set, in seconds (unknown-`kid` refetch). Default 30. */
  refetchIntervalSeconds: number
  /** How long a fetched set is used before it is fetched again, in seconds. Default 600. */
  maxAgeSeconds: number
  /** Time budget of one fetch, in milliseconds. Default 5000. */
  timeoutMs: number
  /** Largest JWKS or metadata document read, in bytes. */
  maxBytes: number
  now: () => number
}

type LocalSet = ReturnType<typeof createLocalJWKSet>

function unavailable(detail: string, cause?: unknown): TokenVerificationError {
  return unavailableError('ERR_JWKS_UNAVAILABLE', detail, cause)
}

function isNoMatchingKey(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === 'ERR_JWKS_NO_MATCHING_KEY'
}

/**
 * A key resolver for `jwtVerify`. With a local set, keys are looked up only. With a remote set,
 * the first token triggers the fetch; later fetches happen when the set is older than
 * `maxAgeSeconds`, or when a token names a key the set does not hold and the last fetch is at
 * least `refetchIntervalSeconds` old (so a flood of tokens with invented `kid`s costs one fetch
 * per interval). A failed refresh keeps the previous set.
 */
export function createKeySource(options: KeySourceOptions): KeyResolver {
  if (options.jwks !== undefined) {
    const local = createLocalJWKSet(options.jwks)
    return async (header, input) => local(header, input)
  }

  let jwksUri = options.jwksUri
  let set: LocalSet | undefined
  let fetchedAt = Number.NEGATIVE_INFINITY
  let attemptedAt = Number.NEGATIVE_INFINITY
  let inflight: Promise<void> | undefined

  const discoverJwksUri = async (): Promise<string> => {
    const metadata = await discoverAuthorizationServer(
      options.fetch,
      options.issuer,
      options,
      'ERR_JWKS_UNAVAILABLE',
    )
    if (metadata.jwks_uri === undefined) throw unavailable('authorization server metadata has no jwks_uri')
    return metadata.jwks_uri
  }

  const refresh = (): Promise<void> => {
    inflight ??= (async () => {
      attemptedAt = options.now()
      try {
        jwksUri ??= await discoverJwksUri()
        const json = await fetchJson(options.fetch, jwksUri, options, 'ERR_JWKS_UNAVAILABLE', 'JWKS')
        let next: LocalSet
        try {
          next = createLocalJWKSet(json as JSONWebKeySet)
        } catch (error) {
          throw unavailable('JWKS: not a JWK Set', error)
        }
        set = next
        fetchedAt = options.now()
      } finally {
        inflight = undefined
      }
    })()
    return inflight
  }

  return async (header, input) => {
    const now = options.now()
    if (set === undefined) {
      if (now - attemptedAt < options.refetchIntervalSeconds * 1000 && inflight === undefined) {
        throw unavailable('JWKS: previous fetch failed recently')
      }
      await refresh()
    } else if (now - fetchedAt >= options.maxAgeSeconds * 1000 && inflight === undefined) {
      await refresh().catch(() => undefined)
    }
    const current = set
    if (current === undefined) throw unavailable('JWKS: not loaded')
    try {
      return await current(header, input)
    } catch (error) {
      if (!isNoMatchingKey(error)) throw error
      // An unknown kid may be a freshly rotated key: refetch once, rate-limited.
      if (inflight === undefined && options.now() - attemptedAt < options.refetchIntervalSeconds * 1000)
        throw error
      await refresh().catch(() => undefined)
      const refreshed = set
      if (refreshed === current || refreshed === undefined) throw error
      return refreshed(header, input)
    }
  }
}
