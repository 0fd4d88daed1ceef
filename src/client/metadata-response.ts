/**
 * What the two metadata discoveries (RFC 9728 Protected Resource Metadata and RFC 8414
 * authorization server metadata) do alike: the `GET` they send, how they read a status that is
 * not `200`, and how a `200` body becomes a validated document.
 *
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1)
 * @module
 */

import { ProtocolError } from '../protocol/errors.js'
import { ClientError } from './errors.js'

/**
 * Sends one metadata `GET`. Redirects are not followed (`redirect: 'manual'`), so only the URL the
 * client built and checked is ever read.
 *
 * @see [RFC 9728 §3.1](https://www.rfc-editor.org/rfc/rfc9728#section-3.1)
 * @see [RFC 8414 §3.1](https://www.rfc-editor.org/rfc/rfc8414#section-3.1)
 */
export function metadataRequest(
  url: string,
  options: { fetch: typeof fetch; signal?: AbortSignal | undefined },
): Promise<Response> {
  return options.fetch(url, {
    method: 'GET',
    headers: { accept: 'application/json' },
    redirect: 'manual',
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  })
}

/** Whether a status means "not here, try the next location" (the reference SDK treats 502 so too). */
export function isNotFoundStatus(status: number): boolean {
  return (status >= 400 && status < 500) || status === 502
}

/**
 * Reads the status of a metadata response: `true` when the document is not at this location (the
 * body is discarded and the next location is tried), `false` on `200` (the body is left to read).
 *
 * @param what - names the document in the error, e.g. `'protected resource metadata'`
 * @throws {ClientError} `ERR_DISCOVERY` for any other status (a server error, a redirect)
 * @see [RFC 9728 §3.2](https://www.rfc-editor.org/rfc/rfc9728#section-3.2)
 * @see [RFC 8414 §3.2](https://www.rfc-editor.org/rfc/rfc8414#section-3.2)
 */
export async function isMetadataMissing(response: Response, what: string, url: string): Promise<boolean> {
  if (response.status === 200) return false
  await response.body?.cancel().catch(() => {})
  if (isNotFoundStatus(response.status)) return true
  throw new ClientError('ERR_DISCOVERY', `${what} request failed`, {
    status: response.status,
    detail: `${url} answered ${response.status}`,
  })
}

/**
 * Reads a metadata response: `undefined` when the document is not at this location (see
 * {@link isMetadataMissing}), else the JSON body passed through `validate`. A `ClientError` from
 * `validate` stands; any other error becomes `ERR_DISCOVERY` with the `ProtocolError`'s detail.
 *
 * @param what - names the document in the errors, e.g. `'protected resource metadata'`
 * @throws {ClientError} `ERR_DISCOVERY` (another status, a body that is not JSON, an invalid document),
 *   or the `ClientError` `validate` threw
 */
export async function readMetadataDocument<T>(
  response: Response,
  what: string,
  url: string,
  validate: (json: unknown) => T,
): Promise<T | undefined> {
  if (await isMetadataMissing(response, what, url)) return undefined
  let json: unknown
  try {
    json = await response.json()
  } catch (error) {
    throw new ClientError('ERR_DISCOVERY', `${what} is not JSON`, {
      detail: `${url} sent a body that is not JSON`,
      cause: error,
    })
  }
  try {
    return validate(json)
  } catch (error) {
    if (error instanceof ClientError) throw error
    throw new ClientError('ERR_DISCOVERY', `invalid ${what}`, {
      detail: error instanceof ProtocolError ? error.detail : undefined,
      cause: error,
    })
  }
}
