/**
 * Conversions between SQL rows and Store records. Postgres returns `bigint` as strings, so every
 * time goes through `Number()`; `NULL` becomes an absent property.
 *
 * @module
 */

import type { PresentedRow } from '../refresh-rotation.js'
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

/** Whose and for what: the columns grants and tokens share. */
interface AuthorizationColumns {
  client_id: string
  subject: string
  resource: string
  scopes: string
}

/** The shared columns as record fields (`scopes` is JSON in its column). */
function authorizationOf(
  row: AuthorizationColumns,
): Omit<AuthorizationColumns, 'scopes'> & { scopes: string[] } {
  return {
    client_id: row.client_id,
    subject: row.subject,
    resource: row.resource,
    scopes: JSON.parse(row.scopes) as string[],
  }
}

/** The shared record fields as columns. */
function authorizationColumns(record: {
  client_id: string
  subject: string
  resource: string
  scopes: readonly string[]
}): AuthorizationColumns {
  return {
    client_id: record.client_id,
    subject: record.subject,
    resource: record.resource,
    scopes: JSON.stringify(record.scopes),
  }
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

/** The record of a code row neither redeemed nor expired, else `undefined`. */
export function pendingCode(row: CodesTable | undefined, now: number): AuthorizationCodeRecord | undefined {
  return row === undefined || row.consumed_at !== null || ms(row.expires_at) <= now ? undefined : toCode(row)
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
    ...authorizationOf(row),
    created_at: ms(row.created_at),
    ...optMs('expires_at', row.expires_at),
    ...optMs('revoked_at', row.revoked_at),
    ...(row.upstream === null ? {} : { upstream: JSON.parse(row.upstream) as JsonObject }),
  }
}

/** A revoked access token as a row, revoked at `now`. */
export function fromAccessToken(record: AccessTokenRecord, now: number): AccessTokensTable {
  return {
    jti: record.jti,
    grant_id: record.grant_id,
    ...authorizationColumns(record),
    expires_at: record.expires_at,
    revoked_at: now,
  }
}

/** An access-token row as a record. */
export function toAccessToken(row: AccessTokensTable): AccessTokenRecord {
  return {
    jti: row.jti,
    grant_id: row.grant_id,
    ...authorizationOf(row),
    expires_at: ms(row.expires_at),
    ...optMs('revoked_at', row.revoked_at),
  }
}

/** A refresh-token row as a record. */
export function toRefreshToken(row: RefreshTokensTable): RefreshTokenRecord {
  return {
    grant_id: row.grant_id,
    ...authorizationOf(row),
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
    ...authorizationColumns(record),
    created_at: record.created_at,
    expires_at: record.expires_at,
    rotated_at: record.rotated_at ?? null,
    revoked_at: record.revoked_at ?? null,
  }
}

/** A refresh-token row as the presented token of a rotation. */
export function presentedRow(row: RefreshTokensTable): PresentedRow {
  return {
    record: toRefreshToken(row),
    ...(row.successor_hash === null ? {} : { successor_hash: row.successor_hash }),
    ...(row.successor_ciphertext === null ? {} : { successor_ciphertext: row.successor_ciphertext }),
  }
}
