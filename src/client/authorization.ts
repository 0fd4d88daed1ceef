/**
 * The authorization request (PKCE `S256`, a fresh `state`, `resource`) and the checks on the
 * authorization response (`state`, then RFC 9207 `iss`, before any `code` or `error` is used).
 *
 * @see [OAuth 2.1 §4.1](https://datatracker.ietf.org/doc/html/draft-ietf-oauth-v2-1-13#section-4.1)
 * @see [MCP Authorization: Authorization Code Protection](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-code-protection)
 * @module
 */

import type { AuthorizationServerMetadata } from '../protocol/authorization-server-metadata.js'
import { computeCodeChallenge, generateCodeVerifier } from '../protocol/pkce.js'
import { randomToken, timingSafeEqual } from '../protocol/random.js'
import { serializeScope } from '../protocol/scope.js'
import type { StoredClient } from './credential-store.js'
import { checkEndpoint, type EndpointPolicy } from './endpoint-policy.js'
import { ClientError } from './errors.js'

/**
 * What the client remembers between sending the user to the authorization server and the
 * callback. The issuer is recorded here before the redirect (SEP-2468).
 */
export interface AuthorizationRecord {
  /** Issuer identifier from the validated metadata. */
  issuer: string
  /** Whether the metadata advertised `authorization_response_iss_parameter_supported`. */
  iss_parameter_supported: boolean
  /** Random, single use, independent of the verifier. */
  state: string
  code_verifier: string
  redirect_uri: string
  resource: string
  client_id: string
  /** Space-delimited requested scopes, absent when none were requested. */
  scope?: string
}

/** Inputs of {@link buildAuthorizationRequest}. */
export interface AuthorizationRequestInput {
  metadata: AuthorizationServerMetadata
  client: StoredClient
  redirectUri: string
  resource: string
  scopes: readonly string[]
  policy: EndpointPolicy
}

/**
 * Builds the authorization URL and the record to keep. `state` and the PKCE verifier are drawn
 * independently (a verifier used as `state` would leak in the redirect: CVE-2026-34511).
 *
 * @throws {ClientError} `ERR_INSECURE_URL` for an authorization endpoint that is not https
 *   (or loopback http when allowed), `ERR_DISCOVERY` when there is none
 * @see [RFC 7636 §4](https://www.rfc-editor.org/rfc/rfc7636#section-4) PKCE
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2) `resource`
 * @see [MCP 2026-07-28 Authorization: recording the issuer (SEP-2468)](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 */
export async function buildAuthorizationRequest(
  input: AuthorizationRequestInput,
): Promise<{ url: string; record: AuthorizationRecord }> {
  const endpoint = input.metadata.authorization_endpoint
  if (endpoint === undefined) {
    throw new ClientError('ERR_DISCOVERY', 'the authorization server has no authorization endpoint')
  }
  checkEndpoint(endpoint, input.policy, 'authorization_endpoint')
  const code_verifier = generateCodeVerifier()
  const state = randomToken(32)
  const url = new URL(endpoint)
  const params = url.searchParams
  params.set('response_type', 'code')
  params.set('client_id', input.client.client_id)
  params.set('redirect_uri', input.redirectUri)
  params.set('code_challenge', await computeCodeChallenge(code_verifier))
  params.set('code_challenge_method', 'S256')
  params.set('state', state)
  const record: AuthorizationRecord = {
    issuer: input.metadata.issuer,
    iss_parameter_supported: input.metadata.authorization_response_iss_parameter_supported === true,
    state,
    code_verifier,
    redirect_uri: input.redirectUri,
    resource: input.resource,
    client_id: input.client.client_id,
  }
  if (input.scopes.length > 0) {
    record.scope = serializeScope(input.scopes)
    params.set('scope', record.scope)
  }
  params.set('resource', input.resource)
  return { url: url.href, record }
}

function single(params: URLSearchParams, name: string): string | undefined | null {
  const values = params.getAll(name)
  if (values.length === 0) return undefined
  return values.length === 1 ? values[0]! : null
}

/**
 * Checks the authorization response against the record and returns the code:
 *
 * 1. `state` is present once and equal to the one sent, else `ERR_STATE_MISMATCH`.
 * 2. `iss` (RFC 9207 §2.4), by plain string comparison with the recorded issuer, no
 *    normalisation: present and different, present more than once, or absent while the server
 *    advertised it, is `ERR_ISS_MISMATCH`.
 * 3. Only then an `error` is reported (`ERR_AUTHORIZATION_DENIED`); its description is never
 *    copied into the message.
 * 4. A single non-empty `code`.
 *
 * @throws {ClientError} `ERR_STATE_MISMATCH`, `ERR_ISS_MISMATCH`, `ERR_AUTHORIZATION_DENIED`
 * @see [RFC 9207 §2.4](https://www.rfc-editor.org/rfc/rfc9207#section-2.4)
 * @see [MCP 2026-07-28 Authorization: Authorization Response Validation](https://modelcontextprotocol.io/specification/2026-07-28/basic/authorization)
 */
export async function processAuthorizationCallback(
  record: AuthorizationRecord,
  params: URLSearchParams,
): Promise<string> {
  const state = single(params, 'state')
  if (typeof state !== 'string' || !(await timingSafeEqual(state, record.state))) {
    throw new ClientError(
      'ERR_STATE_MISMATCH',
      'the authorization response does not belong to this request',
      {
        detail: state === undefined ? 'state is missing' : 'state does not match',
      },
    )
  }
  const iss = single(params, 'iss')
  if (iss === null || (typeof iss === 'string' && iss !== record.issuer)) {
    throw new ClientError('ERR_ISS_MISMATCH', 'the authorization response comes from another issuer', {
      detail: 'iss does not equal the recorded issuer (RFC 9207)',
    })
  }
  if (iss === undefined && record.iss_parameter_supported) {
    throw new ClientError('ERR_ISS_MISMATCH', 'the authorization response has no issuer', {
      detail: 'the server advertises iss, and the response has none (RFC 9207)',
    })
  }
  const error = single(params, 'error')
  if (error !== undefined) {
    const code =
      typeof error === 'string' && /^[\x21\x23-\x5b\x5d-\x7e]{1,64}$/.test(error) ? error : undefined
    throw new ClientError('ERR_AUTHORIZATION_DENIED', 'the authorization server did not grant access', {
      ...(code === undefined ? {} : { oauthError: code }),
    })
  }
  const code = single(params, 'code')
  if (typeof code !== 'string' || code === '') {
    throw new ClientError('ERR_AUTHORIZATION_DENIED', 'the authorization response has no code')
  }
  return code
}
