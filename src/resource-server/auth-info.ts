/**
 * What a verified access token tells the MCP server, and the shape the MCP SDKs expect.
 *
 * @module
 */

/**
 * The claims of an access token that passed every check: signature or introspection, time,
 * issuer and audience. Returned by a {@link Verifier}.
 *
 * @see [RFC 9068 §2.2](https://www.rfc-editor.org/rfc/rfc9068#section-2.2) JWT access token claims
 * @see [RFC 7662 §2.2](https://www.rfc-editor.org/rfc/rfc7662#section-2.2) introspection response
 */
export interface VerifiedToken {
  /** `sub`: the resource owner (or the client, for a client-credentials token). */
  subject?: string
  /** `client_id` of the client the token was issued to. */
  clientId: string
  /** The granted scopes (`scope`, split). */
  scopes: string[]
  /** `exp`, in seconds since the epoch. */
  expiresAt?: number
  /** `aud`, always as a list. */
  audience: string[]
  /** `iss`. */
  issuer: string
  /** Every claim as received (JWT payload or introspection response). */
  claims: Record<string, unknown>
}

/**
 * The verified identity behind a request, as `authenticate()` hands it to the MCP handler.
 *
 * @see [MCP Authorization: Access Token Usage](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#access-token-usage)
 */
export interface AuthInfo extends VerifiedToken {
  /** The access token itself, for handlers that must call back into the same AS (never upstream). */
  token: string
  /** The canonical resource identifier the token's audience was matched against. */
  resource: string
}

/**
 * A token verifier: JWT ({@link jwtVerifier}), introspection ({@link introspectionVerifier}),
 * or your own. It throws {@link TokenVerificationError} for any token it does not accept.
 */
export interface Verifier {
  /** Verifies `token` and returns its claims; throws `TokenVerificationError` otherwise. */
  verify(token: string): Promise<VerifiedToken>
  /**
   * The longest time, in seconds, a positive result may be reused for the same token. The
   * verified-token cache of `protectedResource` never keeps an entry longer than this (nor past
   * `exp`). Undefined leaves the cache's own bound.
   */
  readonly maxCacheAgeSeconds?: number
}

/**
 * `AuthInfo` as the official MCP TypeScript SDKs type it: v1 `req.auth`
 * (`@modelcontextprotocol/sdk/server/auth/types.js`) and v2 `authInfo`
 * (`@modelcontextprotocol/server`). Structural, so no SDK is imported here.
 */
export interface SdkAuthInfo {
  token: string
  clientId: string
  scopes: string[]
  expiresAt?: number
  resource?: URL
  /** v2 only: the Protected Resource Metadata URL, for challenges built after authentication. */
  resourceMetadataUrl?: string
  extra?: Record<string, unknown>
}

/**
 * Converts our {@link AuthInfo} to the SDKs' shape. `resource` becomes a `URL`; subject, issuer,
 * audience and the raw claims go into `extra` (`extra.subject`, `extra.issuer`, `extra.audience`,
 * `extra.claims`).
 *
 * @example
 * ```ts
 * const auth = await rs.authenticate(request)
 * if (auth instanceof Response) return auth
 * return mcpHandler.fetch(request, { authInfo: toSdkAuthInfo(auth, { resourceMetadataUrl: rs.metadataUrl }) })
 * ```
 */
export function toSdkAuthInfo(
  authInfo: AuthInfo,
  options: { resourceMetadataUrl?: string } = {},
): SdkAuthInfo {
  const out: SdkAuthInfo = {
    token: authInfo.token,
    clientId: authInfo.clientId,
    scopes: [...authInfo.scopes],
    resource: new URL(authInfo.resource),
    extra: {
      subject: authInfo.subject,
      issuer: authInfo.issuer,
      audience: authInfo.audience,
      claims: authInfo.claims,
    },
  }
  if (authInfo.expiresAt !== undefined) out.expiresAt = authInfo.expiresAt
  if (options.resourceMetadataUrl !== undefined) out.resourceMetadataUrl = options.resourceMetadataUrl
  return out
}
