/**
 * Launching the user's browser on a URL that may come from an untrusted party (an authorization
 * server's `authorization_endpoint`), without letting that URL become a command.
 *
 * @module
 */

import { systemOpener } from './browser-launcher.js'
import { BrowserOpenError } from './errors.js'
import { classifyAddress } from './safe-fetch/address-policy.js'

export { systemOpener }

/** Opens a URL. Receives exactly one argument: the checked, re-serialized URL. */
export type BrowserOpener = (url: string) => Promise<void>

/** Options of {@link openInBrowser} and {@link browserSafeUrl}. */
export interface OpenInBrowserOptions {
  /** Allow `http:` to a loopback host (`localhost`, `127.0.0.0/8`, `[::1]`). Default `true`. */
  allowLoopbackHttp?: boolean
  /** Replaces the system opener ({@link systemOpener}). */
  opener?: BrowserOpener
}

/** What {@link openInBrowser} did. When `opened` is false the caller shows `url` to the user. */
export interface OpenInBrowserResult {
  opened: boolean
  /** The URL that was (or should be) opened: checked and re-serialized. */
  url: string
}

// C0 and C1 controls, space, DEL, Unicode spaces, zero-width and bidirectional controls, BOM.
// The URL parser drops tabs and newlines silently, so the raw string is checked first.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const FORBIDDEN_RAW = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200f\u2028-\u202f\u205f-\u206f\u3000\ufeff]/u

// LDH labels (plus `_`, seen in real host names) after IDNA; an optional root dot.
const DNS_NAME = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*\.?$/

/**
 * Characters with a meaning to POSIX shells, cmd.exe or PowerShell that the URL serializer leaves
 * as they are. Percent-encoding them keeps the URL's meaning for any HTTP server (they are data, not
 * delimiters, in a path, query or fragment) and leaves nothing for an interpreter to act on.
 * `&`, `=` and `+` are kept in the query, where they delimit and encode form parameters.
 */
const SHELL_SPECIAL_ANYWHERE = /[!$'()*,;[\]^`{|}\\"<> ]/g
const SHELL_SPECIAL_IN_PATH = /[!$&'()*,;[\]^`{|}\\"<> ]/g
// A `%` that does not start an escape (`%PATH%` expands inside cmd.exe quotes).
const STRAY_PERCENT = /%(?![0-9A-Fa-f]{2})/g

function percentEncode(text: string, special: RegExp): string {
  return text
    .replace(STRAY_PERCENT, '%25')
    .replace(special, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`)
}

function isLoopbackHost(hostname: string): boolean {
  if (hostname === 'localhost' || hostname === 'localhost.') return true
  return classifyAddress(hostname)?.loopback === true
}

/**
 * Checks a URL for launching in a browser and returns the string to launch: `https:`, or `http:`
 * to a loopback host; no userinfo; no whitespace or control characters anywhere in the raw
 * string; a host that is a DNS name or an IP address. The result is the parsed URL re-serialized,
 * with every shell-special character outside the query's delimiters percent-encoded.
 *
 * @throws {BrowserOpenError}
 * @see [RFC 8252 §7.3](https://www.rfc-editor.org/rfc/rfc8252#section-7.3) loopback redirection
 * @see [GHSA-6xpm-ggf7-wc3p](https://github.com/advisories/GHSA-6xpm-ggf7-wc3p) CVE-2025-6514, command injection through `authorization_endpoint`
 */
export function browserSafeUrl(
  raw: string,
  options: Pick<OpenInBrowserOptions, 'allowLoopbackHttp'> = {},
): string {
  if (FORBIDDEN_RAW.test(raw)) {
    throw new BrowserOpenError('ERR_CONTROL_CHARACTERS', 'the URL contains whitespace or control characters')
  }
  let url: URL
  try {
    url = new URL(raw)
  } catch (error) {
    throw new BrowserOpenError('ERR_INVALID_URL', 'the string is not a URL', { cause: error })
  }
  const allowLoopbackHttp = options.allowLoopbackHttp !== false
  if (url.protocol === 'http:') {
    if (!allowLoopbackHttp || !isLoopbackHost(url.hostname)) {
      throw new BrowserOpenError('ERR_SCHEME_NOT_ALLOWED', 'http: URLs are opened only on a loopback host', {
        detail: `http: to ${url.host}`,
      })
    }
  } else if (url.protocol !== 'https:') {
    throw new BrowserOpenError('ERR_SCHEME_NOT_ALLOWED', 'only https: URLs are opened in a browser', {
      detail: `scheme ${url.protocol.slice(0, 32)}`,
    })
  }
  if (url.username !== '' || url.password !== '') {
    throw new BrowserOpenError('ERR_USERINFO', 'URLs with a user name or password are not opened')
  }
  const hostname = url.hostname
  const isIpLiteral = classifyAddress(hostname) !== undefined
  if (!isIpLiteral && !DNS_NAME.test(hostname)) {
    throw new BrowserOpenError('ERR_INVALID_URL', 'the host is not a DNS name or an IP address')
  }
  const authority = `${url.protocol}//${url.host}`
  const href = url.href
  if (!href.startsWith(authority))
    throw new BrowserOpenError('ERR_INVALID_URL', 'the URL does not re-serialize')
  return (
    authority +
    percentEncode(url.pathname, SHELL_SPECIAL_IN_PATH) +
    percentEncode(url.search, SHELL_SPECIAL_ANYWHERE) +
    percentEncode(url.hash, SHELL_SPECIAL_ANYWHERE)
  )
}

/**
 * Opens `url` in the user's browser after {@link browserSafeUrl} accepts it. A URL that is refused
 * throws a {@link BrowserOpenError}; a browser that cannot be launched does not throw: the result
 * says `opened: false` and the caller prints `url` for the user to open.
 *
 * @throws {BrowserOpenError}
 * @see [RFC 8252 §6](https://www.rfc-editor.org/rfc/rfc8252#section-6) native apps open the authorization request in the external browser
 */
export async function openInBrowser(
  url: string,
  options: OpenInBrowserOptions = {},
): Promise<OpenInBrowserResult> {
  const safe = browserSafeUrl(url, options)
  const opener = options.opener ?? systemOpener
  try {
    await opener(safe)
    return { opened: true, url: safe }
  } catch {
    return { opened: false, url: safe }
  }
}
