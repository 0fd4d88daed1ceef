/**
 * Access tokens (RFC 9068 JWTs, ES256) and the opaque secrets (codes, refresh tokens) the server
 * hands out. Access tokens are self-contained: nothing is stored when one is issued. Introspection
 * and revocation judge one by its signed claims, the store's revocation record for its `jti`, and
 * the grant it names (a revoked or ended grant ends its access tokens too).
 *
 * @module
 */
import { decodeProtectedHeader, type JWTPayload, jwtVerify, SignJWT } from 'jose'
import { randomToken } from '../protocol/random.js'
import { parseScope, serializeScope } from '../protocol/scope.js'
import type { AccessTokenRecord, Store } from '../storage/types.js'
import type { Sha256 } from './digest.js'
import type { ActiveSigningKey, KeyManager } from './keys.js'

/** What an access token is about. */
export interface AccessTokenClaims {
  /**
   * The grant the token was issued under. Becomes the `grant_id` claim when the grant is stored
   * (authorization code and refresh); grants of one token (client credentials, JWT bearer) have
   * no stored record and no claim.
   */
  grant_id: string
  /** `true` for a grant of one token with no stored record. */
  standalone?: boolean
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
 * Signs an RFC 9068 access token. Nothing is stored: see {@link verifyOwnAccessToken}.
 *
 * @see [RFC 9068 §2](https://www.rfc-editor.org/rfc/rfc9068#section-2) header `typ: at+jwt`; claims `iss`, `exp`, `aud`, `sub`, `client_id`, `iat`, `jti`, `scope`
 */
export async function issueAccessToken(
  deps: {
    issuer: string
    keys: KeyManager
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
  if (claims.standalone !== true) payload[GRANT_ID_CLAIM] = claims.grant_id
  if (claims.auth_time !== undefined) payload['auth_time'] = Math.floor(claims.auth_time / 1000)
  const sign = deps.sign ?? webJwtSigner
  const token = await sign({
    header: { alg: signing.alg, typ: ACCESS_TOKEN_TYP, kid: signing.kid },
    payload,
    key: signing,
  })
  return { token, jti, expires_in: expiresIn, expires_at: exp * 1000 }
}

/** The private claim naming the stored grant an access token was issued under. */
export const GRANT_ID_CLAIM = 'grant_id'

/** An access token this server signed, read from its verified claims. */
export interface OwnAccessToken {
  /** What the token says; `grant_id` is `''` for a grant of one token; `revoked_at` when revoked. */
  record: AccessTokenRecord
  payload: JWTPayload
  /** Not revoked, and its grant (if stored) neither revoked nor ended. Expired tokens never verify. */
  active: boolean
}

/**
 * Checks that `token` is an unexpired access token this server signed (signature, `typ`, `iss`,
 * `exp`) and judges it: revoked by `jti` (RFC 7009), or ended with its grant (a revoked family,
 * a replayed code, an expired grant). `undefined` for anything else.
 *
 * @see [RFC 7662 §2.2](https://www.rfc-editor.org/rfc/rfc7662#section-2.2) `active`
 */
export async function verifyOwnAccessToken(
  deps: { issuer: string; keys: KeyManager; store: Store },
  token: string,
  now: number,
): Promise<OwnAccessToken | undefined> {
  let payload: JWTPayload
  try {
    if (token.split('.').length !== 3) return undefined
    const header = decodeProtectedHeader(token)
    if (typeof header.kid !== 'string') return undefined
    const key = await deps.keys.verificationKey(header.kid, now)
    if (key === undefined) return undefined
    ;({ payload } = await jwtVerify(token, key, {
      issuer: deps.issuer,
      typ: ACCESS_TOKEN_TYP,
      algorithms: ['ES256'],
      currentDate: new Date(now),
    }))
  } catch {
    return undefined
  }
  const { jti, sub, aud, exp, client_id: clientId, scope } = payload
  const grantId = payload[GRANT_ID_CLAIM] ?? ''
  if (
    typeof jti !== 'string' ||
    typeof sub !== 'string' ||
    typeof aud !== 'string' ||
    typeof exp !== 'number' ||
    typeof clientId !== 'string' ||
    typeof grantId !== 'string'
  )
    return undefined
  const [stored, grant] = await Promise.all([
    deps.store.accessTokens.get(jti, now),
    grantId === '' ? undefined : deps.store.grants.get(grantId, now),
  ])
  const record: AccessTokenRecord = {
    jti,
    // Tokens issued while every token was recorded carry no claim: their row names the grant,
    // and revoking the grant marks that row.
    grant_id: grantId === '' ? (stored?.grant_id ?? '') : grantId,
    client_id: clientId,
    subject: sub,
    resource: aud,
    scopes: typeof scope === 'string' ? parseScope(scope) : [],
    expires_at: exp * 1000,
    ...(stored?.revoked_at === undefined ? {} : { revoked_at: stored.revoked_at }),
  }
  const grantLive = grantId === '' || (grant !== undefined && grant.revoked_at === undefined)
  return { record, payload, active: record.revoked_at === undefined && grantLive }
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
