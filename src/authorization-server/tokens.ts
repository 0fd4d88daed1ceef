/**
 * Access tokens (RFC 9068 JWTs, ES256) and the opaque secrets (codes, refresh tokens) the server
 * hands out. Every access token also gets a store record by `jti`, for revocation and introspection.
 *
 * @module
 */
import { decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from 'jose'
import { randomToken } from '../protocol/random.js'
import { serializeScope } from '../protocol/scope.js'
import type { AccessTokenRecord, Store } from '../storage/types.js'
import type { Sha256 } from './digest.js'
import type { ActiveSigningKey, KeyManager } from './keys.js'

/** What an access token is about. */
export interface AccessTokenClaims {
  grant_id: string
  client_id: string
  subject: string
  /** The resource identifier as configured; becomes `aud`. */
  resource: string
  scopes: string[]
  auth_time?: number
  /** Further claims; they never replace the registered ones above. */
  extra?: Record<string, unknown>
}

/** A signed access token and its facts. */
export interface IssuedAccessToken {
  token: string
  jti: string
  expires_in: number
  expires_at: number
}

/** The RFC 9068 `typ` header. */
export const ACCESS_TOKEN_TYP = 'at+jwt'

/** What a {@link JwtSigner} signs: the protected header, the claims, and the key. */
export interface JwtSigningInput {
  header: { alg: string; typ: string; kid: string }
  payload: JWTPayload & Record<string, unknown>
  key: ActiveSigningKey
}

/**
 * Signs a JWT and returns its JWS Compact Serialization. Injectable so a runtime can sign without
 * Web Crypto's thread-pool round trip (the Node entry point signs with `node:crypto`).
 *
 * @see [RFC 7515 §7.1](https://www.rfc-editor.org/rfc/rfc7515#section-7.1) JWS Compact Serialization
 */
export type JwtSigner = (input: JwtSigningInput) => string | Promise<string>

/** The portable signer: jose on Web Crypto. */
export const webJwtSigner: JwtSigner = ({ header, payload, key }) =>
  new SignJWT(payload).setProtectedHeader(header).sign(key.key)

/**
 * Signs an RFC 9068 access token and stores its record.
 *
 * @see [RFC 9068 §2](https://www.rfc-editor.org/rfc/rfc9068#section-2) header `typ: at+jwt`; claims `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`, `scope`
 */
export async function issueAccessToken(
  deps: {
    issuer: string
    keys: KeyManager
    store: Store
    lifetimeMs: number
    sign?: JwtSigner
    randomToken?: RandomToken
  },
  claims: AccessTokenClaims,
  now: number,
): Promise<IssuedAccessToken> {
  const jti = (deps.randomToken ?? randomToken)(16)
  const iat = Math.floor(now / 1000)
  const expiresIn = Math.floor(deps.lifetimeMs / 1000)
  const exp = iat + expiresIn
  const signing = await deps.keys.signingKey(now)
  const payload: JWTPayload & Record<string, unknown> = {
    ...claims.extra,
    iss: deps.issuer,
    sub: claims.subject,
    aud: claims.resource,
    client_id: claims.client_id,
    scope: serializeScope(claims.scopes),
    iat,
    exp,
    jti,
  }
  if (claims.auth_time !== undefined) payload['auth_time'] = Math.floor(claims.auth_time / 1000)
  const sign = deps.sign ?? webJwtSigner
  const [token] = await Promise.all([
    sign({ header: { alg: signing.alg, typ: ACCESS_TOKEN_TYP, kid: signing.kid }, payload, key: signing }),
    deps.store.accessTokens.put({
      jti,
      grant_id: claims.grant_id,
      client_id: claims.client_id,
      subject: claims.subject,
      resource: claims.resource,
      scopes: claims.scopes,
      expires_at: exp * 1000,
    }),
  ])
  return { token, jti, expires_in: expiresIn, expires_at: exp * 1000 }
}

/**
 * Checks that `token` is an access token this server signed (signature, `typ`, `iss`) and returns
 * its store record, or `undefined`. Expiry and revocation are the caller's to judge from the record.
 */
export async function verifyOwnAccessToken(
  deps: { issuer: string; keys: KeyManager; store: Store },
  token: string,
  now: number,
): Promise<{ record: AccessTokenRecord; payload: JWTPayload } | undefined> {
  if (token.split('.').length !== 3) return undefined
  try {
    const header = decodeProtectedHeader(token)
    if (typeof header.kid !== 'string') return undefined
    const key = await deps.keys.verificationKey(header.kid, now)
    if (key === undefined) return undefined
    const { payload } = await jwtVerify(token, key, {
      issuer: deps.issuer,
      typ: ACCESS_TOKEN_TYP,
      algorithms: ['ES256'],
      currentDate: new Date(now),
    })
    if (typeof payload.jti !== 'string') return undefined
    const record = await deps.store.accessTokens.get(payload.jti, now)
    return record === undefined ? undefined : { record, payload }
  } catch {
    return undefined
  }
}

/** An unguessable base64url token of `byteLength` random bytes (default 32), as `randomToken`. */
export type RandomToken = (byteLength?: number) => string

/** A fresh opaque secret and the hash it is stored under. */
export async function newSecret(
  hash: Sha256,
  random: RandomToken = randomToken,
): Promise<{ value: string; hash: string }> {
  const value = random(32)
  return { value, hash: await hash(value) }
}
