/**
 * Finding a client by id: configured clients first, then the store (dynamic and administrator
 * registrations, cached metadata documents), then, for an https URL, its Client ID Metadata Document.
 *
 * @module
 */
import { isClientIdMetadataDocumentUrl } from '../../protocol/client-metadata.js'
import type { Store } from '../../storage/types.js'
import type { Client } from '../context.js'
import { clientFromRecord } from './client-model.js'
import type { StaticClients } from './static.js'

// biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what it finds.
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/

/**
 * Creates the look-up. A metadata document that cannot be fetched or validated rejects with
 * `OAuthError` `invalid_client`; an unknown id resolves to `undefined`.
 */
export function createClientFinder(deps: {
  statics: StaticClients
  store: Store
  now(): number
  cimd: ((url: string) => Promise<Client>) | undefined
}): (clientId: string) => Promise<Client | undefined> {
  return async (clientId) => {
    if (typeof clientId !== 'string' || clientId === '' || clientId.length > 2048) return undefined
    // RFC 6749 Appendix A.1: client_id = *VSCHAR. A control character (NUL above all, which a
    // Postgres text column cannot even hold) can never name a client.
    if (CONTROL_CHARACTER.test(clientId)) return undefined
    const configured = await deps.statics.get(clientId)
    if (configured !== undefined) return configured
    if (deps.cimd !== undefined && isClientIdMetadataDocumentUrl(clientId)) return deps.cimd(clientId)
    const record = await deps.store.clients.get(clientId, deps.now())
    return record === undefined ? undefined : clientFromRecord(record)
  }
}
