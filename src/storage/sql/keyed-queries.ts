/**
 * The one-row queries the SQL store repeats for many tables: by key, select, insert a new row,
 * insert or update, delete.
 *
 * @module
 */

import type { Insertable, Kysely, Selectable } from 'kysely'
import { StorageError } from '../errors.js'
import type { Database } from './schema.js'

type Db = Kysely<Database>

// Kysely cannot type a query over a table named by a type parameter: the helpers run their query on
// this view of the database, and their signatures keep the table, column and row types.
type AnyRow = Record<string, string | number | null>
type AnyTableDb = Kysely<Record<string, AnyRow>>

function anyTable(db: Db): AnyTableDb {
  return db as unknown as AnyTableDb
}

/** `ERR_STORAGE_CONFLICT`: a new `kind` has the key of one stored already. */
export function conflict(kind: string): StorageError {
  return new StorageError('ERR_STORAGE_CONFLICT', `${kind} exists already`)
}

/** The row of `table` whose key `column` holds `value`. */
export async function selectByKey<T extends keyof Database>(
  db: Db,
  table: T,
  column: keyof Database[T] & string,
  value: string,
): Promise<Selectable<Database[T]> | undefined> {
  const row = await anyTable(db)
    .selectFrom(table as string)
    .selectAll()
    .where(column as string, '=', value)
    .executeTakeFirst()
  return row as Selectable<Database[T]> | undefined
}

/**
 * Inserts `values` as a new row of `table`, in one statement; throws {@link conflict} naming `kind`
 * when its `key` column's value is taken.
 */
export async function insertNew<T extends keyof Database>(
  db: Db,
  table: T,
  values: Insertable<Database[T]>,
  key: keyof Database[T] & string,
  kind: string,
): Promise<void> {
  const row = await anyTable(db)
    .insertInto(table as string)
    .values(values)
    .onConflict((oc) => oc.doNothing())
    .returning(key as string)
    .executeTakeFirst()
  if (row === undefined) throw conflict(kind)
}

/** Inserts the row `key` + `columns`, or sets `columns` on the row `key` names, in one statement. */
export async function upsert<T extends keyof Database, K extends keyof Insertable<Database[T]>>(
  db: Db,
  table: T,
  key: Pick<Insertable<Database[T]>, K>,
  columns: Omit<Insertable<Database[T]>, K>,
): Promise<void> {
  await anyTable(db)
    .insertInto(table as string)
    .values({ ...key, ...columns })
    .onConflict((oc) => oc.columns(Object.keys(key)).doUpdateSet(columns as AnyRow))
    .execute()
}

/** Deletes the row of `table` whose key `column` holds `value`; whether there was one. */
export async function deleteByKey<T extends keyof Database>(
  db: Db,
  table: T,
  column: keyof Database[T] & string,
  value: string,
): Promise<boolean> {
  const result = await anyTable(db)
    .deleteFrom(table as string)
    .where(column as string, '=', value)
    .executeTakeFirst()
  return result.numDeletedRows > 0n
}
