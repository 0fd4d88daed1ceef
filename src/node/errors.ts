/**
 * Errors of the Node-only layer: the SSRF-safe fetch and the browser opener.
 *
 * @module
 */

import { type ErrorOptions, PortcullisError } from '../protocol/errors.js'

/**
 * Why {@link createSafeFetch} refused or failed a request. The reason is the code; the response
 * body is never part of the error.
 *
 * - `ERR_INVALID_URL`: the URL (or a redirect's `Location`) does not parse, or the host is not a
 *   DNS name or an IP address.
 * - `ERR_SCHEME_NOT_ALLOWED`: not `https:`, or `http:` to something other than an allowed loopback target.
 * - `ERR_USERINFO`: the URL carries a user name or password.
 * - `ERR_HOST_DENIED`: the deny-list hook matched the host.
 * - `ERR_HOST_NOT_ALLOWED`: an allow-list hook is set and did not match the host.
 * - `ERR_ADDRESS_NOT_ALLOWED`: a literal, resolved or connected address is not global unicast
 *   (`range` names the category, e.g. `private`, `loopback`, `linkLocal`).
 * - `ERR_DNS`: the name did not resolve.
 * - `ERR_CONNECTION`: the connection or the TLS handshake failed, or the peer closed early.
 * - `ERR_INVALID_RESPONSE`: the response cannot be represented (e.g. a status outside 200-599).
 * - `ERR_TOO_MANY_REDIRECTS`: more redirects than `maxRedirects` (0 refuses any redirect).
 * - `ERR_BODY_TOO_LARGE`: the body (declared or streamed) is larger than `maxBodyBytes`.
 * - `ERR_TIMEOUT`: the total time budget ran out.
 * - `ERR_CONTENT_TYPE`: JSON was expected and the media type is not `application/json` or `application/*+json`.
 */
export type NetworkPolicyErrorCode =
  | 'ERR_INVALID_URL'
  | 'ERR_SCHEME_NOT_ALLOWED'
  | 'ERR_USERINFO'
  | 'ERR_HOST_DENIED'
  | 'ERR_HOST_NOT_ALLOWED'
  | 'ERR_ADDRESS_NOT_ALLOWED'
  | 'ERR_DNS'
  | 'ERR_CONNECTION'
  | 'ERR_INVALID_RESPONSE'
  | 'ERR_TOO_MANY_REDIRECTS'
  | 'ERR_BODY_TOO_LARGE'
  | 'ERR_TIMEOUT'
  | 'ERR_CONTENT_TYPE'

/**
 * A request refused by the outbound network policy, or failed on the way.
 *
 * @see [RFC 9728 §7.7](https://www.rfc-editor.org/rfc/rfc9728#section-7.7) server-side request forgery through metadata URLs
 */
export class NetworkPolicyError extends PortcullisError<NetworkPolicyErrorCode> {
  /** For `ERR_ADDRESS_NOT_ALLOWED`: the category of the refused address, e.g. `private`. */
  readonly range: string | undefined

  constructor(
    code: NetworkPolicyErrorCode,
    message: string,
    options: ErrorOptions & { range?: string } = {},
  ) {
    super(code, message, options)
    this.range = options.range
  }
}

/**
 * Why {@link openInBrowser} refused a URL.
 *
 * - `ERR_INVALID_URL`: the string does not parse as a URL, or its host is not a DNS name or an IP address.
 * - `ERR_CONTROL_CHARACTERS`: the raw string holds whitespace or control characters (checked before
 *   parsing, because the URL parser silently drops tabs and newlines).
 * - `ERR_SCHEME_NOT_ALLOWED`: not `https:`, or `http:` to a host that is not loopback.
 * - `ERR_USERINFO`: the URL carries a user name or password.
 */
export type BrowserOpenErrorCode =
  | 'ERR_INVALID_URL'
  | 'ERR_CONTROL_CHARACTERS'
  | 'ERR_SCHEME_NOT_ALLOWED'
  | 'ERR_USERINFO'

/**
 * A URL the browser opener refused to launch.
 *
 * @see [GHSA-6xpm-ggf7-wc3p](https://github.com/advisories/GHSA-6xpm-ggf7-wc3p) (CVE-2025-6514)
 */
export class BrowserOpenError extends PortcullisError<BrowserOpenErrorCode> {}
