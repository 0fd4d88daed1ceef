/**
 * The client credentials grant, for confidential clients only (the MCP OAuth Client Credentials
 * extension). The client is its own subject; no refresh token is issued (RFC 6749 §4.4.3).
 *
 * @see [RFC 6749 §4.4](https://www.rfc-editor.org/rfc/rfc6749#section-4.4)
 * @see [MCP extension: OAuth Client Credentials](https://github.com/modelcontextprotocol/ext-auth/blob/main/specification/draft/oauth-client-credentials.mdx)
 * @module
 */
import { OAuthError } from '../../protocol/errors.js'
import { randomToken } from '../../protocol/random.js'
import { resolveResource } from '../checks/resource.js'
import { resolveScopes } from '../checks/scope.js'
import { isConfidential } from '../clients/client-model.js'
import { type GrantHandler, respondWithAccessToken } from './token-response.js'

/** `grant_type=client_credentials`. */
export const clientCredentialsGrant: GrantHandler = async (ctx, { client, params, multi }) => {
  if (!isConfidential(client.authMethod)) {
    throw new OAuthError('unauthorized_client', 'the client is not registered for this grant type')
  }
  const resource = resolveResource(ctx.resources, multi.get('resource'), ctx.defaultResource)
  const scopes = resolveScopes(resource, params.get('scope'), client)
  return respondWithAccessToken(
    ctx,
    'client_credentials',
    {
      // No grant row: nothing to refresh; the access token is revocable by itself.
      grant_id: `cc_${randomToken(12)}`,
      standalone: true,
      client_id: client.client_id,
      subject: client.client_id,
      resource: resource.uri,
      scopes,
    },
    ctx.now(),
  )
}
