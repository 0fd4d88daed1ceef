/**
 * The first steps revocation and introspection share: read the form, require `token`, and
 * authenticate the calling client.
 *
 * @see [RFC 7009 §2.1](https://www.rfc-editor.org/rfc/rfc7009#section-2.1)
 * @see [RFC 7662 §2.1](https://www.rfc-editor.org/rfc/rfc7662#section-2.1)
 * @module
 */
import type { Client } from '../context.js'
import { readForm, requiredParam } from '../http.js'
import type { ClientAuthenticator } from './token.js'

/** A revocation or introspection request: the token it is about, and who asks. */
export interface TokenRequestAbout {
  token: string
  params: Map<string, string>
  client: Client
}

/** Reads a request about a token. Throws `OAuthError` (`invalid_request`, `invalid_client`). */
export async function readTokenRequest(
  request: Request,
  authenticate: ClientAuthenticator,
  endpoint: 'revoke' | 'introspect',
): Promise<TokenRequestAbout> {
  const { params } = await readForm(request)
  const token = requiredParam(params, 'token')
  const client = await authenticate(request, params, endpoint)
  return { token, params, client }
}
