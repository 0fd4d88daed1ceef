/**
 * Conversions between SQL rows and Store records. Postgres returns `bigint` as strings, so every
 * time goes through `Number()`; `NULL` becomes an absent property.
 *
 * @module
 */

import type {
  AccessTokenRecord,
  AuthorizationCodeRecord,
  ClientKind,
  ClientRecord,
  GrantRecord,
  JsonObject,
  RefreshTokenRecord,
} from '../types.js'
import type {
  AccessTokensTable,
  ClientsTable,
  CodesTable,
  GrantsTable,
  RefreshTokensTable,
} from './schema.js'

type Millis = number | string

/** A time column as a number. */
export function ms(value: Millis): number {
  return Number(value)
}

/** `{ [key]: Number(value) }`, or `{}` when the column is `NULL`. */
export function optMs<K extends string>(key: K, value: Millis | null): { [P in K]?: number } {
  return (value === null ? {} : { [key]: Number(value) }) as { [P in K]?: number }
}

/** `now` or later when the column holds an expiry, `NULL` meaning "never". */
export function isLive(expiresAt: Millis | null, now: number): boolean {
  return expiresAt === null || Number(expiresAt) > now
}

/** A client row as a record. */
export function toClient(row: ClientsTable): ClientRecord {
  return {
    client_id: row.client_id,
    kind: row.kind as ClientKind,
    ...(row.secret_hash === null ? {} : { secret_hash: row.secret_hash }),
    metadata: JSON.parse(row.metadata) as JsonObject,
    created_at: ms(row.created_at),
    ...optMs('expires_at', row.expires_at),
    ...optMs('last_used_at', row.last_used_at),
  }
}

/** A code row as a record. */
export function toCode(row: CodesTable): AuthorizationCodeRecord {
  return {
    ...(JSON.parse(row.record) as Omit<AuthorizationCodeRecord, 'expires_at' | 'consumed_at'>),
    expires_at: ms(row.expires_at),
    ...optMs('consumed_at', row.consumed_at),
  }
}

/** A code record as the columns of its row (the hash aside). */
export function fromCode(
  record: Omit<AuthorizationCodeRecord, 'consumed_at'>,
): Pick<CodesTable, 'grant_id' | 'record' | 'expires_at'> {
  const { expires_at, ...rest } = record
  return { grant_id: record.grant_id, record: JSON.stringify(rest), expires_at }
}

/** A grant row as a record. */
export function toGrant(row: GrantsTable): GrantRecord {
  return {
    id: row.id,
    subject: row.subject,
    client_id: row.client_id,
    resource: row.resource,
    scopes: JSON.parse(row.scopes) as string[],
    created_at: ms(row.created_at),
    ...optMs('expires_at', row.expires_at),
    ...optMs('revoked_at', row.revoked_at),
    ...(row.upstream === null ? {} : { upstream: JSON.parse(row.upstream) as JsonObject }),
  }
}

/** An access-token row as a record. */
export function toAccessToken(row: AccessTokensTable): AccessTokenRecord {
  return {
    jti: row.jti,
    grant_id: row.grant_id,
    client_id: row.client_id,
    subject: row.subject,
    resource: row.resource,
    scopes: JSON.parse(row.scopes) as string[],
    expires_at: ms(row.expires_at),
    ...optMs('revoked_at', row.revoked_at),
  }
}

/** A refresh-token row as a record. */
export function toRefreshToken(row: RefreshTokensTable): RefreshTokenRecord {
  return {
    grant_id: row.grant_id,
    client_id: row.client_id,
    subject: row.subject,
    resource: row.resource,
    scopes: JSON.parse(row.scopes) as string[],
    created_at: ms(row.created_at),
    expires_at: ms(row.expires_at),
    ...optMs('rotated_at', row.rotated_at),
    ...optMs('revoked_at', row.revoked_at),
  }
}

/** A refresh-token record as its row, without rotation columns. */
export function fromRefreshToken(
  hash: string,
  record: RefreshTokenRecord,
): Omit<RefreshTokensTable, 'successor_hash' | 'successor_ciphertext'> {
  return {
    hash,
    grant_id: record.grant_id,
    client_id: record.client_id,
    subject: record.subject,
    resource: record.resource,
    scopes: JSON.stringify(record.scopes),
    created_at: record.created_at,
    expires_at: record.expires_at,
    rotated_at: record.rotated_at ?? null,
    revoked_at: record.revoked_at ?? null,
  }
}
