/**
 * Sending one request and classifying the answer, the way a discovery client sees it: a JSON
 * document, another status, a body that is not JSON, or a refusal/network error.
 *
 * @module
 */
import { isJsonObject } from '../../protocol/metadata-fields.js'
import type { DoctorContext } from './context.js'
import { printable } from './finding.js'

/** The MCP revision doctor announces on discovery requests, as MCP clients do. */
export const PROTOCOL_VERSION = '2025-11-25'

/** How one request turned out. */
export type Outcome =
  | { kind: 'json'; status: number; headers: Headers; json: Record<string, unknown> }
  | { kind: 'not-json'; status: number; headers: Headers }
  | { kind: 'status'; status: number; headers: Headers }
  | { kind: 'error'; code: string; message: string }

/** Describes a failed request without echoing anything secret (there is nothing secret in doctor's requests). */
export function describeError(error: unknown): { code: string; message: string } {
  const code =
    typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'ERR_FETCH'
  const detail = (error as { detail?: unknown })?.detail
  const message = error instanceof Error ? error.message : String(error)
  return { code, message: printable(typeof detail === 'string' ? `${message} (${detail})` : message, 240) }
}

/** A fix for the request errors a user can do something about. */
export function fixForError(code: string): string | undefined {
  switch (code) {
    case 'ERR_SCHEME_NOT_ALLOWED':
      return 'Serve it over https. For a server on this machine, http to 127.0.0.1, [::1] or localhost is checked with --allow-http-loopback.'
    case 'ERR_ADDRESS_NOT_ALLOWED':
      return 'doctor only contacts public addresses, and loopback with --allow-http-loopback. Publish URLs that resolve to public addresses.'
    case 'ERR_DNS':
      return 'Check the host name: it does not resolve.'
    case 'ERR_CONNECTION':
      return 'Check that the server is running and listening at this address and port.'
    case 'ERR_TIMEOUT':
      return 'The server did not answer in time; check that it is running and not blocked.'
    default:
      return undefined
  }
}

/** Sends a GET for a metadata document, as discovery clients do (no redirects followed). */
export function getMetadata(
  ctx: DoctorContext,
  url: string,
  headers: Record<string, string> = {},
): Promise<Outcome> {
  return send(ctx, url, {
    method: 'GET',
    redirect: 'manual',
    headers: { accept: 'application/json', 'mcp-protocol-version': PROTOCOL_VERSION, ...headers },
  })
}

/** Sends a request and classifies the answer. */
export async function send(ctx: DoctorContext, url: string, init: RequestInit): Promise<Outcome> {
  let response: Response
  try {
    response = await ctx.fetch(url, init)
  } catch (error) {
    return { kind: 'error', ...describeError(error) }
  }
  const { status, headers } = response
  if (status < 200 || status >= 300) {
    await response.body?.cancel().catch(() => {})
    return { kind: 'status', status, headers }
  }
  let json: unknown
  try {
    json = JSON.parse(await response.text())
  } catch {
    return { kind: 'not-json', status, headers }
  }
  return isJsonObject(json) ? { kind: 'json', status, headers, json } : { kind: 'not-json', status, headers }
}

/** One line about an outcome, for messages: `404`, `200, not JSON`, `ERR_CONNECTION: ...`. */
export function describeOutcome(outcome: Outcome): string {
  switch (outcome.kind) {
    case 'json':
      return `${outcome.status}, JSON`
    case 'not-json':
      return `${outcome.status}, not a JSON object`
    case 'status': {
      const location = outcome.headers.get('location')
      return location !== null && outcome.status >= 300 && outcome.status < 400
        ? `${outcome.status} redirect to ${printable(location)}`
        : `${outcome.status}`
    }
    case 'error':
      return `${outcome.code}: ${outcome.message}`
  }
}
