/**
 * The one SQL schema of the SQLite and Postgres stores, and its versioned migrations.
 *
 * Times are `bigint` milliseconds since the epoch. Secrets appear only as SHA-256 hashes
 * (`hash`, `secret_hash`, `successor_hash`) or as AES-GCM envelopes (`*_ciphertext`).
 *
 * @module
 */

import {
  type CreateTableBuilder,
  type Generated,
  type Kysely,
  type Migration,
  type MigrationProvider,
  Migrator,
} from 'kysely'
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

/** A column's SQL type. */
type SqlType = 'text' | 'bigint' | 'integer'

/**
 * A column as declared: its type, then `not null` or `primary key` unless its Kysely type admits
 * NULL. `serial primary key` is an auto-incrementing key: `integer primary key autoincrement` on
 * SQLite (values never reused), `bigserial primary key` on Postgres.
 */
type ColumnSpec<Value> = null extends Value
  ? SqlType
  : `${SqlType} not null` | `${SqlType} primary key` | 'serial primary key'

/** One table as data: what {@link createTable} turns into DDL. */
export interface TableSpec<Row> {
  /** Every column, in table order. */
  columns: { readonly [C in keyof Row]-?: ColumnSpec<Row[C]> }
  /** A primary key over several columns, as constraint `<table>_pk`; a one-column key is on its column. */
  primaryKey?: readonly (keyof Row & string)[]
  /** Each one index `<table>_<column>[_<column>…]_idx` over the columns given. */
  indexes: readonly (readonly (keyof Row & string)[])[]
}

/** A table spec with its column names and declarations as plain strings. */
interface AnyTableSpec {
  columns: Readonly<Record<string, string>>
  primaryKey?: readonly string[]
  indexes: readonly (readonly string[])[]
}

/**
 * The schema as data, one spec per table, in creation order: migration `0001_initial` is built
 * from it, and a test checks a migrated database against it.
 */
export const TABLE_SPECS: { readonly [T in keyof Database]: TableSpec<Database[T]> } = {
  portcullis_clients: {
    columns: {
      client_id: 'text primary key',
      kind: 'text not null',
      secret_hash: 'text',
      metadata: 'text not null',
      created_at: 'bigint not null',
      expires_at: 'bigint',
      last_used_at: 'bigint',
    },
    indexes: [['expires_at']],
  },
  portcullis_transactions: {
    columns: {
      id: 'text primary key',
      data: 'text not null',
      expires_at: 'bigint not null',
    },
    indexes: [['expires_at']],
  },
  portcullis_consents: {
    columns: {
      subject: 'text not null',
      client_id: 'text not null',
      resource: 'text not null',
      redirect_uri: 'text not null',
      scopes: 'text not null',
      created_at: 'bigint not null',
      expires_at: 'bigint',
    },
    primaryKey: ['subject', 'client_id', 'resource', 'redirect_uri'],
    indexes: [['expires_at']],
  },
  portcullis_codes: {
    columns: {
      hash: 'text primary key',
      grant_id: 'text not null',
      record: 'text not null',
      expires_at: 'bigint not null',
      consumed_at: 'bigint',
    },
    indexes: [['expires_at'], ['grant_id']],
  },
  portcullis_grants: {
    columns: {
      id: 'text primary key',
      subject: 'text not null',
      client_id: 'text not null',
      resource: 'text not null',
      scopes: 'text not null',
      created_at: 'bigint not null',
      expires_at: 'bigint',
      revoked_at: 'bigint',
      upstream: 'text',
    },
    indexes: [['subject'], ['client_id'], ['expires_at']],
  },
  portcullis_access_tokens: {
    columns: {
      jti: 'text primary key',
      grant_id: 'text not null',
      client_id: 'text not null',
      subject: 'text not null',
      resource: 'text not null',
      scopes: 'text not null',
      expires_at: 'bigint not null',
      revoked_at: 'bigint',
    },
    indexes: [['grant_id'], ['expires_at']],
  },
  portcullis_refresh_tokens: {
    columns: {
      hash: 'text primary key',
      grant_id: 'text not null',
      client_id: 'text not null',
      subject: 'text not null',
      resource: 'text not null',
      scopes: 'text not null',
      created_at: 'bigint not null',
      expires_at: 'bigint not null',
      rotated_at: 'bigint',
      revoked_at: 'bigint',
      successor_hash: 'text',
      successor_ciphertext: 'text',
    },
    indexes: [['grant_id'], ['expires_at']],
  },
  portcullis_signing_keys: {
    columns: {
      kid: 'text primary key',
      alg: 'text not null',
      public_jwk: 'text not null',
      private_jwk_ciphertext: 'text not null',
      created_at: 'bigint not null',
      activates_at: 'bigint not null',
      retires_at: 'bigint',
      status: 'text not null',
    },
    indexes: [],
  },
  portcullis_rate_limits: {
    columns: {
      key: 'text primary key',
      count: 'integer not null',
      reset_at: 'bigint not null',
    },
    indexes: [['reset_at']],
  },
  portcullis_audit: {
    columns: {
      seq: 'serial primary key',
      type: 'text not null',
      at: 'bigint not null',
      subject: 'text',
      client_id: 'text',
      grant_id: 'text',
      detail: 'text',
    },
    indexes: [['at']],
  },
  portcullis_upstream_tokens: {
    columns: {
      grant_id: 'text primary key',
      ciphertext: 'text not null',
      expires_at: 'bigint',
    },
    indexes: [],
  },
  portcullis_used_jtis: {
    columns: {
      issuer: 'text not null',
      jti: 'text not null',
      expires_at: 'bigint not null',
    },
    primaryKey: ['issuer', 'jti'],
    indexes: [['expires_at']],
  },
}

/** Every table of the schema, for sweeps and for tests that read raw rows. */
export const TABLES = Object.keys(TABLE_SPECS) as readonly (keyof Database)[]

// biome-ignore lint/suspicious/noExplicitAny: migrations run against the schema as it was, not as typed today.
type AnyDb = Kysely<any>

/** Creates `table` as `spec` declares it. */
async function createTable(
  db: AnyDb,
  dialect: SqlDialectName,
  table: string,
  spec: AnyTableSpec,
): Promise<void> {
  let builder: CreateTableBuilder<string, string> = db.schema.createTable(table)
  for (const [column, declared] of Object.entries(spec.columns)) {
    const type = declared.split(' ')[0] as SqlType | 'serial'
    const serial = type === 'serial'
    const dataType = serial ? (dialect === 'postgres' ? 'bigserial' : 'integer') : type
    builder = builder.addColumn(column, dataType, (c) => {
      if (declared.endsWith(' not null')) return c.notNull()
      if (!declared.endsWith(' primary key')) return c
      return serial && dialect === 'sqlite' ? c.primaryKey().autoIncrement() : c.primaryKey()
    })
  }
  if (spec.primaryKey !== undefined) {
    builder = builder.addPrimaryKeyConstraint(`${table}_pk`, [...spec.primaryKey])
  }
  await builder.execute()
}

/**
 * The tables of {@link TABLE_SPECS}, then their indexes. Once released, it must go on creating
 * exactly this: a later change to the specs comes with a migration of its own.
 */
function initial(dialect: SqlDialectName): Migration {
  return {
    async up(db: AnyDb) {
      const specs: [string, AnyTableSpec][] = Object.entries(TABLE_SPECS)
      for (const [table, spec] of specs) await createTable(db, dialect, table, spec)
      for (const [table, spec] of specs) {
        for (const columns of spec.indexes) {
          await db.schema
            .createIndex(`${table}_${columns.join('_')}_idx`)
            .on(table)
            .columns([...columns])
            .execute()
        }
      }
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
