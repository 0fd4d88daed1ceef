import { afterAll, beforeAll } from 'vitest'
import { type TestDatabase, withPostgres } from '../support/postgres.js'
import { type ReplicaSet, startReplicas } from './replicas.js'

/** What {@link replicasOnPostgres} holds once the suite has started. */
export interface PostgresReplicas {
  database: TestDatabase
  replicas: ReplicaSet
}

/**
 * Registers, in the calling `describe`, a `beforeAll` that starts two authorization-server
 * processes and the resource server on a fresh Postgres database, and an `afterAll` that stops
 * them and drops the database. The returned object is filled in by the `beforeAll`.
 */
export function replicasOnPostgres(): PostgresReplicas {
  const suite = {} as PostgresReplicas
  beforeAll(async () => {
    suite.database = await withPostgres()
    suite.replicas = await startReplicas({ store: { kind: 'postgres', url: suite.database.url } })
  }, 120_000)
  afterAll(async () => {
    await suite.replicas?.stop()
    await suite.database?.drop()
  })
  return suite
}
