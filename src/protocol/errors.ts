/**
 * One error family for the whole toolkit.
 *
 * Two kinds of text are kept apart on every error:
 * - `message` / `description`: safe to show to a user or to put on the wire. Never a token, a
 *   secret, or attacker-controlled input echoed back.
 * - `detail`: diagnostics for the operator (may name a URL or a status). Still never a token or
 *   a secret: callers pass only what they would log.
 *
 * @module
 */

/**
 * Error codes defined by the OAuth RFCs, as they appear on the wire.
 *
 * @see [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2) token endpoint errors
 * @see [RFC 6749 §4.1.2.1](https://www.rfc-editor.org/rfc/rfc6749#section-4.1.2.1) authorization errors
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) bearer token errors
 * @see [RFC 7591 §3.2.2](https://www.rfc-editor.org/rfc/rfc7591#section-3.2.2) registration errors
 * @see [RFC 8707 §2](https://www.rfc-editor.org/rfc/rfc8707#section-2) `invalid_target`
 * @see [RFC 7009 §2.2.1](https://www.rfc-editor.org/rfc/rfc7009#section-2.2.1) `unsupported_token_type`
 */
export type OAuthErrorCode =
  // RFC 6749 §4.1.2.1 and §5.2
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'unsupported_response_type'
  | 'invalid_scope'
  | 'access_denied'
  | 'server_error'
  | 'temporarily_unavailable'
  // RFC 6750 §3.1
  | 'invalid_token'
  | 'insufficient_scope'
  // RFC 7591 §3.2.2
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  // RFC 8707 §2
  | 'invalid_target'
  // RFC 7009 §2.2.1
  | 'unsupported_token_type'

const OAUTH_ERROR_CODES: ReadonlySet<string> = new Set<OAuthErrorCode>([
  'invalid_request',
  'invalid_client',
  'invalid_grant',
  'unauthorized_client',
  'unsupported_grant_type',
  'unsupported_response_type',
  'invalid_scope',
  'access_denied',
  'server_error',
  'temporarily_unavailable',
  'invalid_token',
  'insufficient_scope',
  'invalid_redirect_uri',
  'invalid_client_metadata',
  'invalid_software_statement',
  'unapproved_software_statement',
  'invalid_target',
  'unsupported_token_type',
])

/** Whether `value` is one of the RFC-defined OAuth error codes. */
export function isOAuthErrorCode(value: unknown): value is OAuthErrorCode {
  return typeof value === 'string' && OAUTH_ERROR_CODES.has(value)
}

/**
 * The HTTP status an OAuth error is answered with by default.
 *
 * @see [RFC 6749 §5.2](https://www.rfc-editor.org/rfc/rfc6749#section-5.2) (400, or 401 for `invalid_client` with HTTP authentication)
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) (`invalid_token` 401, `insufficient_scope` 403)
 */
export function defaultStatusFor(code: OAuthErrorCode): number {
  switch (code) {
    case 'invalid_client':
    case 'invalid_token':
      return 401
    case 'insufficient_scope':
    case 'access_denied':
      return 403
    case 'server_error':
      return 500
    case 'temporarily_unavailable':
      return 503
    default:
      return 400
  }
}

/** Options shared by every error of the family. */
export interface ErrorOptions {
  /** Operator diagnostics. Never a token or a secret. Not sent on the wire. */
  detail?: string
  /** The underlying error, kept for debugging. */
  cause?: unknown
}

/**
 * Base class of every error Portcullis throws. `code` is a closed union per subclass, so callers
 * can `switch` on it.
 */
export class PortcullisError<C extends string = string> extends Error {
  readonly code: C
  readonly detail: string | undefined

  constructor(code: C, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.detail = options.detail
  }
}

/**
 * An OAuth protocol error: what an endpoint answers, or what a peer answered us.
 *
 * `description` is the wire-safe `error_description`; it must not contain secrets or echo
 * attacker input (RFC 6749 §5.2 restricts it to printable ASCII without `"` and `\`).
 */
export class OAuthError extends PortcullisError<OAuthErrorCode> {
  readonly description: string | undefined
  readonly status: number

  constructor(code: OAuthErrorCode, description?: string, options: ErrorOptions & { status?: number } = {}) {
    super(code, description ?? code, options)
    this.description = description === undefined ? undefined : sanitizeDescription(description)
    this.status = options.status ?? defaultStatusFor(code)
  }

  /** The JSON body of an error response (RFC 6749 §5.2). */
  toJSON(): { error: OAuthErrorCode; error_description?: string } {
    return this.description === undefined
      ? { error: this.code }
      : { error: this.code, error_description: this.description }
  }
}

/**
 * Library error codes of the protocol layer. Roles add their own unions on their own classes.
 */
export type ProtocolErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_INVALID_HEADER'
  | 'ERR_INVALID_URL'
  | 'ERR_INVALID_RESOURCE'
  | 'ERR_INVALID_REDIRECT_URI'
  | 'ERR_INVALID_SCOPE'
  | 'ERR_INVALID_METADATA'
  | 'ERR_ISSUER_MISMATCH'
  | 'ERR_RESOURCE_MISMATCH'
  | 'ERR_PKCE'
  | 'ERR_INPUT_TOO_LARGE'

/** A malformed or non-conforming input found by a protocol parser or validator. */
export class ProtocolError extends PortcullisError<ProtocolErrorCode> {}

/**
 * Make a string safe for `error_description`: RFC 6749 §5.2 allows only %x20-21 / %x23-5B /
 * %x5D-7E. Anything else is replaced, and the length is bounded so no input can be reflected
 * in bulk.
 */
export function sanitizeDescription(text: string, maxLength = 200): string {
  const cleaned = text.replace(/[^\x20-\x21\x23-\x5b\x5d-\x7e]/g, ' ')
  return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength - 3)}...` : cleaned
}
