/**
 * The `redirect_uri` of an authorization request: exactly one of the client's registered URIs (any
 * port for a loopback IP literal, RFC 8252 §7.3). Failing here means a local error page, never a
 * redirect.
 *
 * @see [OAuth 2.1 §2.3.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-2.3.1) exact matching
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) loopback ports
 * @see anchors S6 (CVE-2025-4143), S8, S9, S17, S18
 * @module
 */
import { redirectUriMatches, validateRedirectUri } from '../../protocol/redirect-uri.js'
import type { Client } from '../context.js'
import { AuthorizationPageError } from '../errors.js'

function notRegistered(): AuthorizationPageError {
  return new AuthorizationPageError(
    400,
    'Invalid redirect URI',
    'The application asked to send you to an address it has not registered. Nothing was sent to it.',
  )
}

/**
 * The redirect URI to use: the presented one when registered, or the only registered one when none
 * is presented. Also re-run when a transaction completes (S8, S17), against the current registration.
 */
export function checkRedirectUri(client: Client, presented: string | undefined): string {
  const registered = client.metadata.redirect_uris ?? []
  if (presented === undefined) {
    // OAuth 2.1 §2.3.2: may be omitted only when exactly one is registered.
    if (registered.length !== 1) throw notRegistered()
    presented = registered[0]!
  }
  const options =
    client.metadata.application_type === undefined
      ? {}
      : { applicationType: client.metadata.application_type }
  try {
    // A stored URI is checked again too: a registration from before a rule change must not redirect (S17).
    validateRedirectUri(presented, options)
  } catch {
    throw notRegistered()
  }
  if (!redirectUriMatches(registered, presented, { loopbackAnyPort: true })) throw notRegistered()
  return presented
}
