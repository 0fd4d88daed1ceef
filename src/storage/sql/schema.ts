/**
 * The one SQL schema of the SQLite and Postgres stores, and its versioned migrations.
 *
 * Times are `bigint` milliseconds since the epoch. Secrets appear only as SHA-256 hashes
 * (`hash`, `secret_hash`, `successor_hash`) or as AES-GCM envelopes (`*_ciphertext`).
 *
 * @module
 */

import { type Generated, type Kysely, type Migration, type MigrationProvider, Migrator } from 'kysely'
import { StorageError } from '../errors.js'

/** The SQL dialects the stores run on. */
export type SqlDialectName = 'sqlite' | 'postgres'

/** Postgres returns `bigint` as strings; the query layer converts with `Number()`. */
type Millis = number | string

/** `portcullis_clients`. */
export interface ClientsTable {
  client_id: string
  kind: string
  secret_hash: string | null
  metadata: string
  created_at: Millis
  expires_at: Millis | null
  last_used_at: Millis | null
}

/** `portcullis_transactions`. */
export interface TransactionsTable {
  id: string
  data: string
  expires_at: Millis
}

/** `portcullis_consents`. */
export interface ConsentsTable {
  subject: string
  client_id: string
  resource: string
  /** `''` when the consent is not narrowed to one redirect URI. */
  redirect_uri: string
  scopes: string
  created_at: Millis
  expires_at: Millis | null
}

/** `portcullis_codes`. */
export interface CodesTable {
  hash: string
  grant_id: string
  /** The code record as JSON, without `expires_at` and `consumed_at`. */
  record: string
  expires_at: Millis
  consumed_at: Millis | null
}

/** `portcullis_grants`. */
export interface GrantsTable {
  id: string
  subject: string
  client_id: string
  resource: string
  scopes: string
  created_at: Millis
  expires_at: Millis | null
  revoked_at: Millis | null
  upstream: string | null
}

/** `portcullis_access_tokens`. */
export interface AccessTokensTable {
  jti: string
  grant_id: string
  client_id: string
  subject: string
  resource: string
  scopes: string
  expires_at: Millis
  revoked_at: Millis | null
}

/** `portcullis_refresh_tokens`. */
export interface RefreshTokensTable {
  hash: string
  grant_id: string
  client_id: string
  subject: string
  resource: string
  scopes: string
  created_at: Millis
  expires_at: Millis
  rotated_at: Millis | null
  revoked_at: Millis | null
  successor_hash: string | null
  /** The successor token sealed under a key derived from this row's token. */
  successor_ciphertext: string | null
}

/** `portcullis_signing_keys`. */
export interface SigningKeysTable {
  kid: string
  alg: string
  public_jwk: string
  private_jwk_ciphertext: string
  created_at: Millis
  activates_at: Millis
  retires_at: Millis | null
  status: string
}

/** `portcullis_rate_limits`. */
export interface RateLimitsTable {
  key: string
  count: number
  reset_at: Millis
}

/** `portcullis_audit`. */
export interface AuditTable {
  seq: Generated<number | string>
  type: string
  at: Millis
  subject: string | null
  client_id: string | null
  grant_id: string | null
  detail: string | null
}

/** `portcullis_upstream_tokens`. */
export interface UpstreamTokensTable {
  grant_id: string
  ciphertext: string
  expires_at: Millis | null
}

/** `portcullis_used_jtis`. */
export interface UsedJtisTable {
  issuer: string
  jti: string
  expires_at: Millis
}

/** The database as Kysely sees it. */
export interface Database {
  portcullis_clients: ClientsTable
  portcullis_transactions: TransactionsTable
  portcullis_consents: ConsentsTable
  portcullis_codes: CodesTable
  portcullis_grants: GrantsTable
  portcullis_access_tokens: AccessTokensTable
  portcullis_refresh_tokens: RefreshTokensTable
  portcullis_signing_keys: SigningKeysTable
  portcullis_rate_limits: RateLimitsTable
  portcullis_audit: AuditTable
  portcullis_upstream_tokens: UpstreamTokensTable
  portcullis_used_jtis: UsedJtisTable
}

/** Every table of the schema, for sweeps and for tests that read raw rows. */
export const TABLES: readonly (keyof Database)[] = [
  'portcullis_clients',
  'portcullis_transactions',
  'portcullis_consents',
  'portcullis_codes',
  'portcullis_grants',
  'portcullis_access_tokens',
  'portcullis_refresh_tokens',
  'portcullis_signing_keys',
  'portcullis_rate_limits',
  'portcullis_audit',
  'portcullis_upstream_tokens',
  'portcullis_used_jtis',
]

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed today.
type AnyDb = Kysely<any>

function initial(dialect: SqlDialectName): Migration {
  return {
    async up(db: AnyDb) {
      const s = db.schema
      await s
        .createTable('portcullis_clients')
        .addColumn('client_id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text')
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('last_used_at', 'bigint')
        .execute()
      await s
        .createTable('portcullis_transactions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute()
      await s
        .createTable('portcullis_consents')
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('redirect_uri', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addPrimaryKeyConstraint('portcullis_consents_pk', [
          'subject',
          'client_id',
          'resource',
          'redirect_uri',
        ])
        .execute()
      await s
        .createTable('portcullis_codes')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('consumed_at', 'bigint')
        .execute()
      await s
        .createTable('portcullis_grants')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('upstream', 'text')
        .execute()
      await s
        .createTable('portcullis_access_tokens')
        .addColumn('jti', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute()
      await s
        .createTable('portcullis_refresh_tokens')
        .addColumn('hash', 'text', (c) => c.primaryKey())
        .addColumn('grant_id', 'text', (c) => c.notNull())
        .addColumn('client_id', 'text', (c) => c.notNull())
        .addColumn('subject', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('scopes', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('rotated_at', 'bigint')
        .addColumn('revoked_at', 'bigint')
        .addColumn('successor_hash', 'text')
        .addColumn('successor_ciphertext', 'text')
        .execute()
      await s
        .createTable('portcullis_signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('private_jwk_ciphertext', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('activates_at', 'bigint', (c) => c.notNull())
        .addColumn('retires_at', 'bigint')
        .addColumn('status', 'text', (c) => c.notNull())
        .execute()
      await s
        .createTable('portcullis_rate_limits')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('count', 'integer', (c) => c.notNull())
        .addColumn('reset_at', 'bigint', (c) => c.notNull())
        .execute()
      await s
        .createTable('portcullis_audit')
        .addColumn('seq', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
          dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
        )
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('at', 'bigint', (c) => c.notNull())
        .addColumn('subject', 'text')
        .addColumn('client_id', 'text')
        .addColumn('grant_id', 'text')
        .addColumn('detail', 'text')
        .execute()
      await s
        .createTable('portcullis_upstream_tokens')
        .addColumn('grant_id', 'text', (c) => c.primaryKey())
        .addColumn('ciphertext', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .execute()
      await s
        .createTable('portcullis_used_jtis')
        .addColumn('issuer', 'text', (c) => c.notNull())
        .addColumn('jti', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('portcullis_used_jtis_pk', ['issuer', 'jti'])
        .execute()

      const index = (table: string, columns: string[]) =>
        s
          .createIndex(`${table}_${columns.join('_')}_idx`)
          .on(table)
          .columns(columns)
          .execute()
      await index('portcullis_clients', ['expires_at'])
      await index('portcullis_transactions', ['expires_at'])
      await index('portcullis_consents', ['expires_at'])
      await index('portcullis_codes', ['expires_at'])
      await index('portcullis_codes', ['grant_id'])
      await index('portcullis_grants', ['subject'])
      await index('portcullis_grants', ['client_id'])
      await index('portcullis_grants', ['expires_at'])
      await index('portcullis_access_tokens', ['grant_id'])
      await index('portcullis_access_tokens', ['expires_at'])
      await index('portcullis_refresh_tokens', ['grant_id'])
      await index('portcullis_refresh_tokens', ['expires_at'])
      await index('portcullis_rate_limits', ['reset_at'])
      await index('portcullis_audit', ['at'])
      await index('portcullis_used_jtis', ['expires_at'])
    },
  }
}

/** The migrations, in order. Never edit a released one; add the next. */
export function migrations(dialect: SqlDialectName): Record<string, Migration> {
  return { '0001_initial': initial(dialect) }
}

/**
 * Brings the schema up to date. Idempotent; safe when several processes start at once: Postgres
 * takes an advisory lock (Kysely's `PostgresAdapter`), SQLite runs it in one `BEGIN IMMEDIATE`
 * transaction, which holds the file's write lock (see `sqlite.ts`).
 */
export async function migrateToLatest(db: Kysely<Database>, dialect: SqlDialectName): Promise<void> {
  const provider: MigrationProvider = { getMigrations: async () => migrations(dialect) }
  const migrator = new Migrator({
    db,
    provider,
    migrationTableName: 'portcullis_migration',
    migrationLockTableName: 'portcullis_migration_lock',
  })
  const { error } = await migrator.migrateToLatest()
  if (error !== undefined) {
    throw new StorageError('ERR_STORAGE_MIGRATION', 'database migration failed', { cause: error })
  }
}
