/**
 * Client ID Metadata Documents: a `client_id` that is an https URL names a JSON document, fetched
 * and validated here, cached in the store (so replicas share it) within configured bounds.
 *
 * @see [draft-ietf-oauth-client-id-metadata-document §4](https://datatracker.ietf.org/doc/draft-ietf-oauth-client-id-metadata-document/)
 * @see [MCP Authorization: Client ID Metadata Documents](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents)
 * @module
 */
import {
  isClientIdMetadataDocumentUrl,
  validateClientIdMetadataDocument,
} from '../../protocol/client-metadata.js'
import { OAuthError } from '../../protocol/errors.js'
import { readUpTo } from '../../protocol/read-up-to.js'
import type { Store } from '../../storage/types.js'
import type { Client } from '../context.js'
import type { CimdOptions } from '../options.js'
import { clientFromRecord, metadataToJson, validateRegistrationMetadata } from './client-model.js'

/** CIMD §6.6: "a maximum response size of 5 kilobytes is RECOMMENDED". */
export const CIMD_MAX_BYTES = 5120

function rejected(description: string, detail?: string): OAuthError {
  return new OAuthError('invalid_client', description, detail === undefined ? {} : { detail })
}

/** Reads at most `max` bytes; `undefined` when the body is larger. */
async function readCapped(response: Response, max: number): Promise<string | undefined> {
  const declared = response.headers.get('content-length')
  if (declared !== null && Number(declared) > max) {
    await response.body?.cancel().catch(() => undefined)
    return undefined
  }
  const bytes = await readUpTo(response.body, max)
  return bytes === undefined ? undefined : new TextDecoder('utf-8', { fatal: true }).decode(bytes)
}

/**
 * The cache lifetime: `max-age` (RFC 9111 §5.2.2.1) clamped to the bounds; `no-store`/`no-cache`
 * mean the lower bound, no header the default.
 */
export function cacheLifetimeMs(
  cacheControl: string | null,
  bounds: { minMs: number; maxMs: number; defaultMs: number },
): number {
  const clamp = (ms: number) => Math.min(bounds.maxMs, Math.max(bounds.minMs, ms))
  if (cacheControl === null) return clamp(bounds.defaultMs)
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim())
  if (directives.some((d) => d === 'no-store' || d === 'no-cache')) return bounds.minMs
  for (const d of directives) {
    const m = /^(?:s-)?max-age=(\d{1,10})$/.exec(d)
    if (m !== null) return clamp(Number(m[1]) * 1000)
  }
  return clamp(bounds.defaultMs)
}

/**
 * Creates the resolver of URL-formatted client ids. Concurrent look-ups of one URL share one fetch;
 * failures (network, status, size, JSON, validation) are never cached.
 */
export function createCimdResolver(
  options: CimdOptions,
  deps: { store: Store; now(): number },
): (url: string) => Promise<Client> {
  if (typeof options.fetch !== 'function') throw new TypeError('cimd.fetch is required')
  const bounds = {
    minMs: options.cacheMinMs ?? 60_000,
    maxMs: options.cacheMaxMs ?? 86_400_000,
    defaultMs: options.cacheDefaultMs ?? 300_000,
  }
  if (!(bounds.minMs >= 0 && bounds.maxMs >= bounds.minMs))
    throw new TypeError('cimd cache bounds are inconsistent')
  const timeoutMs = options.timeoutMs ?? 5000
  const allowHosts = options.allowHosts?.map((h) => h.toLowerCase())
  const inFlight = new Map<string, Promise<Client>>()

  async function fetchDocument(url: string): Promise<Client> {
    let response: Response
    try {
      response = await options.fetch(url, {
        method: 'GET',
        headers: { accept: 'application/json' },
        // CIMD-01 §4: MUST NOT follow redirects; a 3xx is an error like any non-200.
        redirect: 'manual',
        signal: AbortSignal.timeout(timeoutMs),
      })
    } catch (error) {
      throw rejected(
        'the client metadata document could not be fetched',
        error instanceof Error ? error.name : undefined,
      )
    }
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => undefined)
      throw rejected('the client metadata document could not be fetched', `HTTP ${response.status}`)
    }
    let text: string | undefined
    try {
      text = await readCapped(response, CIMD_MAX_BYTES)
    } catch {
      throw rejected('the client metadata document is not valid UTF-8 JSON')
    }
    if (text === undefined) throw rejected('the client metadata document is too large')
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch {
      throw rejected('the client metadata document is not valid JSON')
    }
    const document = validateClientIdMetadataDocument(json, { url })
    let metadata: ReturnType<typeof validateRegistrationMetadata>
    try {
      metadata = validateRegistrationMetadata(document, 'none')
    } catch (error) {
      throw rejected(
        error instanceof OAuthError ? (error.description ?? 'invalid document') : 'invalid document',
      )
    }
    const now = deps.now()
    const record = {
      client_id: url,
      kind: 'cimd' as const,
      metadata: metadataToJson(metadata),
      created_at: now,
      expires_at: now + cacheLifetimeMs(response.headers.get('cache-control'), bounds),
    }
    await deps.store.clients.put(record)
    return clientFromRecord(record)
  }

  return async (url) => {
    if (!isClientIdMetadataDocumentUrl(url))
      throw rejected('client_id is not a valid client metadata document URL')
    if (allowHosts !== undefined && !allowHosts.includes(new URL(url).hostname.toLowerCase())) {
      throw rejected('client metadata documents from this host are not accepted')
    }
    let pending = inFlight.get(url)
    if (pending === undefined) {
      // Set synchronously, before any await, so every concurrent caller shares this look-up.
      pending = (async () => {
        const cached = await deps.store.clients.get(url, deps.now())
        return cached !== undefined ? clientFromRecord(cached) : fetchDocument(url)
      })().finally(() => inFlight.delete(url))
      inFlight.set(url, pending)
    }
    return pending
  }
}
