/**
 * The Store: everything the authorization server and the proxy keep, behind one interface with
 * three implementations (memory, SQLite, Postgres) that pass one contract test suite.
 *
 * Rules every implementation keeps:
 * - Time is always passed in (`now`, milliseconds since the epoch), so callers and tests own the
 *   clock. A record whose `expires_at` is at or before `now` is treated as absent.
 * - Secrets are never at rest in plain text: codes, refresh tokens and client secrets are looked
 *   up by their SHA-256 (`sha256()` of `src/protocol/random.ts`); signing keys' private halves and
 *   upstream tokens are encrypted by the store with AES-GCM under the configured key-encryption key.
 * - Every operation that can race is atomic in the store itself (one statement or one locked
 *   transaction), never a read-then-write in the caller.
 *
 * @see [RFC 6749 §10.3, §10.4](https://www.rfc-editor.org/rfc/rfc6749#section-10.3) token confidentiality
 * @see [OAuth 2.1 §4.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3.1) refresh token rotation
 * @module
 */

/** A JSON value as `JSON.parse` returns it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }

/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue }

/** How a client came to be known: pre-registered, RFC 7591 registration, or a fetched Client ID Metadata Document. */
export type ClientKind = 'static' | 'dynamic' | 'cimd'

/**
 * A client registration.
 *
 * @see [RFC 7591 §2](https://www.rfc-editor.org/rfc/rfc7591#section-2) client metadata
 * @see [OAuth Client ID Metadata Document](https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/)
 */
export interface ClientRecord {
  client_id: string
  kind: ClientKind
  /** SHA-256 (base64url) of the client secret; the secret itself is never stored. */
  secret_hash?: string
  /** RFC 7591 client metadata as registered or fetched. */
  metadata: JsonObject
  created_at: number
  /** Idle expiry of a dynamic registration, or the cache expiry of a metadata document. */
  expires_at?: number
  last_used_at?: number
}

/** Client registrations. */
export interface ClientStore {
  /** The client, or `undefined` when unknown or expired at `now`. */
  get(clientId: string, now: number): Promise<ClientRecord | undefined>
  /** Inserts or replaces the registration. */
  put(record: ClientRecord): Promise<void>
  /** `true` when a registration was deleted. */
  delete(clientId: string): Promise<boolean>
  /**
   * Records a use: sets `last_used_at = now` and, when `expiresAt` is given, moves the idle expiry.
   * `false` when the client is unknown or already expired.
   */
  touch(clientId: string, now: number, expiresAt?: number): Promise<boolean>
}

/** Pending authorization requests, kept server-side behind an opaque id. */
export interface TransactionStore {
  /** Throws `StorageError` `ERR_STORAGE_CONFLICT` when the id exists. */
  create(id: string, data: JsonObject, expiresAt: number): Promise<void>
  get(id: string, now: number): Promise<JsonObject | undefined>
  /** Shallow-merges `patch` into the data, atomically. `false` when absent or expired. */
  update(id: string, patch: JsonObject, now: number): Promise<boolean>
  /** Deletes and returns the transaction; of concurrent callers exactly one gets it. */
  consume(id: string, now: number): Promise<JsonObject | undefined>
}

/** What a consent is about. `redirect_uri` narrows it for clients whose id alone is not enough (CIMD). */
export interface ConsentKey {
  subject: string
  client_id: string
  resource: string
  redirect_uri?: string
}

/** A user's consent to a client for a resource. */
export interface ConsentRecord {
  scopes: string[]
  created_at: number
  expires_at?: number
}

/** Consent records. */
export interface ConsentStore {
  get(key: ConsentKey, now: number): Promise<ConsentRecord | undefined>
  put(key: ConsentKey, record: ConsentRecord): Promise<void>
  delete(key: ConsentKey): Promise<boolean>
}

/**
 * An authorization code, stored under the SHA-256 of the code.
 *
 * @see [RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2)
 * @see [RFC 7636 §4.4](https://www.rfc-editor.org/rfc/rfc7636#section-4.4) the challenge kept with the code
 */
export interface AuthorizationCodeRecord {
  grant_id: string
  client_id: string
  redirect_uri: string
  code_challenge: string
  code_challenge_method: string
  resource: string
  scopes: string[]
  subject: string
  auth_time?: number
  nonce?: string
  expires_at: number
  consumed_at?: number
}

/**
 * The outcome of redeeming a code. `replayed` carries the record so the authorization server can
 * revoke the grant the code produced (RFC 6749 §4.1.2: "SHOULD revoke (when possible) all tokens
 * previously issued based on that authorization code").
 */
export type CodeConsumption =
  | { status: 'ok'; record: AuthorizationCodeRecord }
  | { status: 'replayed'; record: AuthorizationCodeRecord }
  | { status: 'not_found' }
  | { status: 'expired' }

/** Authorization codes. */
export interface CodeStore {
  /** Stores a new code under `hash`; throws `ERR_STORAGE_CONFLICT` when the hash exists. */
  put(hash: string, record: Omit<AuthorizationCodeRecord, 'consumed_at'>): Promise<void>
  /** A pending (unredeemed, unexpired) code's record, read without redeeming it (anchors S12). */
  peek(hash: string, now: number): Promise<AuthorizationCodeRecord | undefined>
  /**
   * Redeems a code atomically: of N concurrent callers exactly one gets `ok`, the others
   * `replayed`. An unknown hash has no side effect.
   *
   * @see [RFC 6749 §4.1.2](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2) single use
   */
  consume(hash: string, now: number): Promise<CodeConsumption>
}

/** A grant: a user's authorization of a client for a resource. It is the refresh-token family. */
export interface GrantRecord {
  id: string
  subject: string
  client_id: string
  resource: string
  scopes: string[]
  created_at: number
  /** Absolute end of the grant; sweep removes it and everything issued under it. */
  expires_at?: number
  revoked_at?: number
  /** Non-secret facts about the upstream login (proxy): issuer, upstream subject. Secrets go to `upstreamTokens`. */
  upstream?: JsonObject
}

/** Grants. */
export interface GrantStore {
  /** Throws `ERR_STORAGE_CONFLICT` when the id exists. */
  create(record: GrantRecord): Promise<void>
  /** The grant (revoked ones included, with `revoked_at`), or `undefined` when unknown or expired. */
  get(id: string, now: number): Promise<GrantRecord | undefined>
  /**
   * Revokes the grant, all its refresh tokens and all its access-token records in one atomic step.
   * `true` when the grant was active.
   *
   * @see [RFC 7009 §2.1](https://www.rfc-editor.org/rfc/rfc7009#section-2.1)
   */
  revoke(id: string, now: number): Promise<boolean>
  /** Grants of a subject and/or client, oldest first. */
  list(filter: { subject?: string; client_id?: string }): Promise<GrantRecord[]>
}

/** A revoked access token, by its `jti` (the claims it was issued with). */
export interface AccessTokenRecord {
  jti: string
  grant_id: string
  client_id: string
  subject: string
  resource: string
  scopes: string[]
  expires_at: number
  revoked_at?: number
}

/**
 * Revoked access tokens. Access tokens are self-contained JWTs: nothing is written when one is
 * issued (a write per token cost more than everything else the token endpoint does). Revoking one
 * before it expires records it here; introspection consults this record and the token's grant.
 *
 * @see [RFC 7009 §2](https://www.rfc-editor.org/rfc/rfc7009#section-2)
 * @see [RFC 7662 §2.2](https://www.rfc-editor.org/rfc/rfc7662#section-2.2)
 */
export interface AccessTokenStore {
  /**
   * Records that the token is revoked as of `now`. `true` when it was not revoked before; an
   * expired token (`expires_at <= now`) is not recorded and gives `false`.
   */
  revoke(record: AccessTokenRecord, now: number): Promise<boolean>
  /** The revocation record (with `revoked_at`), or `undefined` when there is none or it has expired. */
  get(jti: string, now: number): Promise<AccessTokenRecord | undefined>
}

/** A refresh token, stored under the SHA-256 of the token. */
export interface RefreshTokenRecord {
  grant_id: string
  client_id: string
  subject: string
  resource: string
  scopes: string[]
  created_at: number
  expires_at: number
  rotated_at?: number
  revoked_at?: number
}

/** Input of {@link RefreshTokenStore.rotate}. */
export interface RefreshRotationInput {
  /** SHA-256 of `presentedToken`; checked. */
  presentedHash: string
  /** The presented token: the key its successor is encrypted under, so nothing plain is stored. */
  presentedToken: string
  /** The authenticated client; a token of another client is `invalid` with no side effect. */
  client_id: string
  /**
   * The successor to install when this call wins. It inherits grant, client, subject, resource and
   * scopes from the presented token (RFC 6749 §6: the new refresh token's scope is identical).
   */
  successor: { hash: string; token: string; expires_at: number }
  now: number
  /** Duplicate presentations within this window get the same successor. Default: the store's (10 s). */
  graceMs?: number
  /**
   * Preconditions checked inside the atomic step, after the token is known to be the client's,
   * live and unrevoked: when one fails the outcome is `refused` and nothing changes, so the caller
   * needs no read of its own before rotating.
   */
  expect?: RefreshRotationPreconditions
}

/** See {@link RefreshRotationInput.expect}. */
export interface RefreshRotationPreconditions {
  /**
   * The resource the request names: must be the token's.
   *
   * @see [RFC 8707 §2.2](https://www.rfc-editor.org/rfc/rfc8707#section-2.2)
   */
  resource?: string
  /**
   * The scopes the request asks for: each must be one of the token's (RFC 6749 §6: the scope may
   * narrow, never widen).
   *
   * @see [RFC 6749 §6](https://www.rfc-editor.org/rfc/rfc6749#section-6)
   */
  scopes?: readonly string[]
}

/**
 * The outcome of presenting a refresh token.
 * - `rotated`: this call won; the successor is installed.
 * - `grace`: the token was rotated less than `graceMs` ago; this is the same successor.
 * - `reuse_detected`: a rotated token came back after the window; the whole grant is now revoked.
 * - `invalid`: unknown, expired, revoked, or another client's token.
 * - `refused`: a live token of this client, but a precondition of {@link RefreshRotationInput.expect}
 *   failed (`resource` or `scope`); nothing changed.
 *
 * @see [OAuth 2.1 §4.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.3.1)
 * @see [RFC 9700 §4.14.2](https://www.rfc-editor.org/rfc/rfc9700#section-4.14.2) refresh token replay detection
 */
export type RefreshRotation =
  | { status: 'rotated' | 'grace'; token: string; hash: string; record: RefreshTokenRecord }
  | { status: 'reuse_detected'; grant_id: string }
  | { status: 'refused'; reason: 'resource' | 'scope' }
  | { status: 'invalid' }

/** Refresh tokens and their rotation families (family = grant). */
export interface RefreshTokenStore {
  /** Stores a new token of an existing grant; throws `ERR_STORAGE_CONFLICT` when the hash exists. */
  issue(hash: string, record: Omit<RefreshTokenRecord, 'rotated_at' | 'revoked_at'>): Promise<void>
  /** The record (rotated and revoked ones included), or `undefined` when unknown or expired. */
  get(hash: string, now: number): Promise<RefreshTokenRecord | undefined>
  /** Exactly one successor per token, atomically; see {@link RefreshRotation}. */
  rotate(input: RefreshRotationInput): Promise<RefreshRotation>
}

/** Lifecycle of a signing key: published before use, used, then published only until tokens expire. */
export type SigningKeyStatus = 'pending' | 'active' | 'retired'

/** A token-signing key. The store encrypts `private_jwk` at rest with the key-encryption key. */
export interface SigningKeyRecord {
  kid: string
  alg: string
  public_jwk: JsonWebKey
  private_jwk: JsonWebKey
  created_at: number
  activates_at: number
  /** From this instant the key is neither used nor published; sweep deletes it. */
  retires_at?: number
  status: SigningKeyStatus
}

/** Signing keys, shared by every replica so all sign with and publish the same keys. */
export interface SigningKeyStore {
  /** All keys, by `activates_at` then `kid`. */
  list(): Promise<SigningKeyRecord[]>
  /** Inserts or replaces a key. */
  put(record: SigningKeyRecord): Promise<void>
  /** `false` when the kid is unknown. */
  update(
    kid: string,
    patch: { status?: SigningKeyStatus; activates_at?: number; retires_at?: number },
  ): Promise<boolean>
  delete(kid: string): Promise<boolean>
}

/** A fixed-window counter after a hit. */
export interface RateLimitHit {
  count: number
  resetAt: number
}

/** Rate-limit counters that hold across processes sharing the store. */
export interface RateLimitStore {
  /** Counts a hit in the fixed window of `windowMs` that contains `now`, atomically. */
  hit(key: string, windowMs: number, now: number): Promise<RateLimitHit>
}

/** An audit event: registrations, consents, grants, refresh reuse, revocations. Never a secret. */
export interface AuditEvent {
  type: string
  at: number
  subject?: string
  client_id?: string
  grant_id?: string
  detail?: JsonObject
}

/** A stored audit event with its insertion sequence number. */
export interface AuditRecord extends AuditEvent {
  seq: number
}

/** The audit log. */
export interface AuditStore {
  append(event: AuditEvent): Promise<void>
  /** Events with `at >= since`, optionally of one type, oldest first, at most `limit` (default 100). */
  list(filter: { since?: number; type?: string; limit?: number }): Promise<AuditRecord[]>
}

/** The proxy's upstream tokens, per grant, encrypted by the store with the key-encryption key. */
export interface UpstreamTokenStore {
  put(grantId: string, tokens: JsonObject, expiresAt?: number): Promise<void>
  get(grantId: string, now: number): Promise<JsonObject | undefined>
  delete(grantId: string): Promise<boolean>
}

/**
 * Used JWT ids, for replay protection of client assertions and ID-JAGs.
 *
 * @see [RFC 7523 §3](https://www.rfc-editor.org/rfc/rfc7523#section-3) item 7 (`jti`)
 */
export interface JtiStore {
  /** `true` only for the first caller for this issuer and jti while it is unexpired. */
  markUsed(issuer: string, jti: string, expiresAt: number, now: number): Promise<boolean>
}

/** The whole store. */
export interface Store {
  clients: ClientStore
  transactions: TransactionStore
  consents: ConsentStore
  codes: CodeStore
  grants: GrantStore
  accessTokens: AccessTokenStore
  refreshTokens: RefreshTokenStore
  signingKeys: SigningKeyStore
  rateLimits: RateLimitStore
  audit: AuditStore
  upstreamTokens: UpstreamTokenStore
  jtis: JtiStore
  /**
   * Deletes every expired row of every kind (and whatever belongs to an expired grant). Returns
   * the number of rows deleted.
   */
  sweep(now: number): Promise<number>
  close(): Promise<void>
}

/** Options every implementation accepts. */
export interface StoreOptions {
  /**
   * The key-encryption key for signing keys and upstream tokens: at least 32 random bytes, as
   * bytes or base64url (`randomToken(32)` makes one). An array means "encrypt with the first,
   * decrypt with any", for key rotation.
   */
  encryptionKey: EncryptionKeyInput | EncryptionKeyInput[]
  /** Default grace window of refresh-token rotation, in milliseconds. Default 10 000. */
  refreshGraceMs?: number
  /** How long audit events are kept before sweep deletes them. Default 90 days. */
  auditRetentionMs?: number
}

/** Key material for {@link StoreOptions.encryptionKey}. */
export type EncryptionKeyInput = string | Uint8Array
