/**
 * `WWW-Authenticate`: parsing every challenge of one or several header values, serializing
 * challenges with correct quoting, and the Bearer challenge of RFC 6750 §3 / RFC 9728 §5.1.
 *
 * The parser is a single left-to-right scan (no regular expressions), so its running time is
 * linear in the input, which is capped at {@link MAX_WWW_AUTHENTICATE_LENGTH} characters.
 *
 * Malformed input is never partly accepted: one syntax error anywhere makes the whole value
 * fail with `ProtocolError('ERR_INVALID_HEADER')`. In a comma-separated list of challenges a
 * parser that skipped a broken element could not know which challenge the following parameters
 * belong to, and a misattributed `resource_metadata` or `scope` is worse than none. The same
 * holds for a parameter named twice in one challenge (RFC 9110 §11.2: "each parameter name MUST
 * only occur once per challenge"): which value wins is ambiguous, so it is an error too. A client
 * that meets `ERR_INVALID_HEADER` proceeds as if no challenge had been sent (RFC 9728 §3
 * well-known discovery).
 *
 * @see [RFC 9110 §11.6.1](https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1) `WWW-Authenticate`
 * @see [RFC 9110 §11.2](https://www.rfc-editor.org/rfc/rfc9110#section-11.2) challenge syntax
 * @module
 */

import { ProtocolError, sanitizeDescription } from './errors.js'
import { serializeScope } from './scope.js'

/**
 * The largest input {@link parseWwwAuthenticate} accepts, in characters, summed over all header
 * values. Real challenges are a few hundred characters; Node's default limit for all request
 * headers together is 16 KiB.
 */
export const MAX_WWW_AUTHENTICATE_LENGTH = 16 * 1024

/**
 * One authentication challenge: a scheme followed by either a token68 or auth-params.
 *
 * @see [RFC 9110 §11.2](https://www.rfc-editor.org/rfc/rfc9110#section-11.2)
 */
export interface Challenge {
  /** The auth-scheme as sent (schemes are case-insensitive; compare lower-cased). */
  scheme: string
  /** The token68, for schemes such as `Basic` or `Negotiate` that carry one. */
  token68?: string
  /**
   * The auth-params. {@link parseWwwAuthenticate} lower-cases the names (they are
   * case-insensitive) and unescapes quoted values.
   */
  params: Record<string, string>
}

/** A challenge as {@link parseWwwAuthenticate} returns it. */
export interface ParsedChallenge extends Challenge {
  /** The scheme lower-cased, for case-insensitive matching (RFC 9110 §11.1). */
  normalizedScheme: string
}

/**
 * The parameters of a `Bearer` challenge that RFC 6750 §3 and RFC 9728 §5.1 define, read from
 * the challenge, plus every parameter as sent (names lower-cased) in `params`.
 *
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 * @see [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)
 */
export interface BearerChallenge {
  /** URL of the Protected Resource Metadata (RFC 9728 §5.1). Not yet validated. */
  resource_metadata?: string
  /** Space-delimited scopes needed (RFC 6750 §3). Read it with `parseScope`. */
  scope?: string
  /** Error code (RFC 6750 §3.1), e.g. `invalid_token` or `insufficient_scope`. */
  error?: string
  /** Human-readable text from the server. Not safe to display without care. */
  error_description?: string
  /** URI of a human-readable error page. */
  error_uri?: string
  /** Protection space (RFC 9110 §11.5). */
  realm?: string
  /** Every parameter of the challenge, names lower-cased. */
  params: Record<string, string>
}

/** Parameters for {@link bearerChallenge}. */
export interface BearerChallengeParams {
  /** Protection space (RFC 9110 §11.5); always sent as a quoted-string. */
  realm?: string
  /** Error code (RFC 6750 §3.1). Characters limited to `%x20-21 / %x23-5B / %x5D-7E`. */
  error?: string
  /**
   * Human-readable description. Passed through `sanitizeDescription` (RFC 6750 §3 restricts it
   * to `%x20-21 / %x23-5B / %x5D-7E`) and bounded in length.
   */
  error_description?: string
  /** URI of an error page (RFC 6750 §3). Characters limited to `%x21 / %x23-5B / %x5D-7E`. */
  error_uri?: string
  /** Scopes needed, as a scope value or a list of scope-tokens (RFC 6750 §3, RFC 6749 §3.3). */
  scope?: string | readonly string[]
  /** URL of the Protected Resource Metadata (RFC 9728 §5.1). */
  resource_metadata?: string
  /** Further auth-params, sent after the ones above in their own order. */
  extra?: Readonly<Record<string, string>>
}

/** Options for {@link serializeChallenge}. */
export interface SerializeChallengeOptions {
  /**
   * `'as-needed'` (default) quotes a value only when it is not a token; `'always'` quotes every
   * value. `realm` is quoted in both modes (RFC 9110 §11.5: senders MUST use quoted-string).
   */
  quote?: 'as-needed' | 'always'
}

const TAB = 0x09
const SPACE = 0x20
const DQUOTE = 0x22
const COMMA = 0x2c
const EQUALS = 0x3d
const BACKSLASH = 0x5c

/** tchar (RFC 9110 §5.6.2), indexed by char code below 128. */
const TCHAR = charTable("!#$%&'*+-.^_`|~")
/** token68 characters before the trailing `=` (RFC 9110 §11.2). */
const TOKEN68_CHAR = charTable('-._~+/')

function charTable(punctuation: string): Uint8Array {
  const table = new Uint8Array(128)
  for (let c = 0x30; c <= 0x39; c++) table[c] = 1
  for (let c = 0x41; c <= 0x5a; c++) table[c] = 1
  for (let c = 0x61; c <= 0x7a; c++) table[c] = 1
  for (let i = 0; i < punctuation.length; i++) table[punctuation.charCodeAt(i)] = 1
  return table
}

function isTchar(c: number): boolean {
  return c < 128 && TCHAR[c] === 1
}

function isToken68Char(c: number): boolean {
  return c < 128 && TOKEN68_CHAR[c] === 1
}

/** qdtext = HTAB / SP / %x21 / %x23-5B / %x5D-7E / obs-text (RFC 9110 §5.6.4). */
function isQdtext(c: number): boolean {
  return (
    c === TAB ||
    c === SPACE ||
    c === 0x21 ||
    (c >= 0x23 && c <= 0x5b) ||
    (c >= 0x5d && c <= 0x7e) ||
    isObsText(c)
  )
}

/** The character after `\` in a quoted-pair: HTAB / SP / VCHAR / obs-text (RFC 9110 §5.6.4). */
function isQuotedPairChar(c: number): boolean {
  return c === TAB || (c >= SPACE && c <= 0x7e) || isObsText(c)
}

function isObsText(c: number): boolean {
  return c >= 0x80 && c <= 0xff
}

function isToken(s: string): boolean {
  if (s.length === 0) return false
  for (let i = 0; i < s.length; i++) {
    if (!isTchar(s.charCodeAt(i))) return false
  }
  return true
}

function isToken68(s: string): boolean {
  let i = 0
  while (i < s.length && isToken68Char(s.charCodeAt(i))) i++
  if (i === 0) return false
  while (i < s.length && s.charCodeAt(i) === EQUALS) i++
  return i === s.length
}

/** Thrown for every syntax error; the offset helps the operator, the input is never echoed. */
function malformed(reason: string, offset: number): never {
  throw new ProtocolError('ERR_INVALID_HEADER', 'Malformed WWW-Authenticate header', {
    detail: `${reason} at offset ${offset}`,
  })
}

/** OWS = *( SP / HTAB ) (RFC 9110 §5.6.3). */
function skipOws(s: string, pos: number): number {
  while (pos < s.length) {
    const c = s.charCodeAt(pos)
    if (c !== SPACE && c !== TAB) break
    pos++
  }
  return pos
}

function scanToken(s: string, pos: number): number {
  while (pos < s.length && isTchar(s.charCodeAt(pos))) pos++
  return pos
}

/**
 * The end of a token68 starting at `pos` if one stands there alone (followed only by OWS and
 * then a comma or the end), else -1. This is what tells `Basic abc=` (token68) from
 * `Bearer a=b` (an auth-param).
 */
function scanLoneToken68(s: string, pos: number): number {
  let end = pos
  while (end < s.length && isToken68Char(s.charCodeAt(end))) end++
  if (end === pos) return -1
  while (end < s.length && s.charCodeAt(end) === EQUALS) end++
  const next = skipOws(s, end)
  return next === s.length || s.charCodeAt(next) === COMMA ? end : -1
}

/** Parses a quoted-string whose opening `"` is at `pos`; returns the unescaped value and the end. */
function scanQuotedString(s: string, pos: number): [string, number] {
  let value = ''
  let i = pos + 1
  let segment = i
  while (i < s.length) {
    const c = s.charCodeAt(i)
    if (c === DQUOTE) return [value + s.slice(segment, i), i + 1]
    if (c === BACKSLASH) {
      value += s.slice(segment, i)
      i++
      if (i >= s.length) break
      if (!isQuotedPairChar(s.charCodeAt(i))) malformed('invalid quoted-pair', i)
      value += s[i]
      i++
      segment = i
      continue
    }
    if (!isQdtext(c)) malformed('invalid character in quoted-string', i)
    i++
  }
  return malformed('unterminated quoted-string', pos)
}

/**
 * Parses `BWS "=" BWS ( token / quoted-string )` for the auth-param `name` of `challenge`,
 * starting at the `=` found at `equals`. Returns the position after the value.
 */
function scanParamValue(s: string, equals: number, name: string, challenge: ParsedChallenge): number {
  let pos = skipOws(s, equals + 1)
  let value: string
  if (pos < s.length && s.charCodeAt(pos) === DQUOTE) {
    ;[value, pos] = scanQuotedString(s, pos)
  } else {
    const end = scanToken(s, pos)
    if (end === pos) malformed('expected a token or quoted-string value', pos)
    value = s.slice(pos, end)
    pos = end
  }
  const key = name.toLowerCase()
  // RFC 9110 §11.2: each parameter name MUST only occur once per challenge.
  if (Object.hasOwn(challenge.params, key)) malformed('duplicate auth-param', equals)
  challenge.params[key] = value
  return pos
}

function newChallenge(scheme: string): ParsedChallenge {
  // A prototype-less record: parameter names such as `constructor` or `__proto__` are plain data.
  return {
    scheme,
    normalizedScheme: scheme.toLowerCase(),
    params: Object.create(null) as Record<string, string>,
  }
}

/**
 * Parses one field value: `#challenge`, where each list element is a challenge start
 * (`auth-scheme [ 1*SP ( token68 / auth-param ) ]`) or a further auth-param of the current one.
 */
function parseFieldValue(s: string, out: ParsedChallenge[]): void {
  let current: ParsedChallenge | undefined
  let pos = 0
  for (;;) {
    pos = skipOws(s, pos)
    if (pos >= s.length) return
    // RFC 9110 §5.6.1: recipients accept empty list elements.
    if (s.charCodeAt(pos) === COMMA) {
      pos++
      continue
    }
    const start = pos
    const tokenEnd = scanToken(s, pos)
    if (tokenEnd === start) malformed('expected an auth-scheme or auth-param name', start)
    const afterToken = skipOws(s, tokenEnd)
    if (afterToken < s.length && s.charCodeAt(afterToken) === EQUALS) {
      if (current === undefined) malformed('auth-param before any auth-scheme', start)
      if (current.token68 !== undefined) malformed('auth-param after a token68', start)
      pos = scanParamValue(s, afterToken, s.slice(start, tokenEnd), current)
    } else {
      current = newChallenge(s.slice(start, tokenEnd))
      out.push(current)
      pos = tokenEnd
      if (afterToken < s.length && s.charCodeAt(afterToken) !== COMMA) {
        if (afterToken === tokenEnd) malformed('expected whitespace after the auth-scheme', tokenEnd)
        pos = afterToken
        const token68End = scanLoneToken68(s, pos)
        if (token68End !== -1) {
          current.token68 = s.slice(pos, token68End)
          pos = token68End
        } else {
          const nameEnd = scanToken(s, pos)
          if (nameEnd === pos) malformed('expected a token68 or auth-param', pos)
          const equals = skipOws(s, nameEnd)
          if (equals >= s.length || s.charCodeAt(equals) !== EQUALS) malformed('expected "="', equals)
          pos = scanParamValue(s, equals, s.slice(pos, nameEnd), current)
        }
      }
    }
    pos = skipOws(s, pos)
    if (pos < s.length && s.charCodeAt(pos) !== COMMA) malformed('expected "," or the end', pos)
  }
}

function isHeadersLike(value: unknown): value is Pick<Headers, 'get'> {
  return typeof value === 'object' && value !== null && typeof (value as Headers).get === 'function'
}

/** The field values to parse, one per header line, with the size cap applied to their sum. */
function fieldValues(input: string | readonly string[] | Headers): readonly string[] {
  let values: readonly string[]
  if (typeof input === 'string') {
    values = [input]
  } else if (Array.isArray(input)) {
    values = input
  } else if (isHeadersLike(input)) {
    // Headers.get joins several field lines with ", " (RFC 9110 §5.3), which the list syntax absorbs.
    const joined = input.get('www-authenticate')
    values = joined === null ? [] : [joined]
  } else {
    throw new ProtocolError('ERR_INVALID_ARGUMENT', 'Expected a string, an array of strings or Headers')
  }
  let total = 0
  for (const value of values) {
    if (typeof value !== 'string') {
      throw new ProtocolError('ERR_INVALID_ARGUMENT', 'Expected a string, an array of strings or Headers')
    }
    total += value.length
    if (total > MAX_WWW_AUTHENTICATE_LENGTH) {
      throw new ProtocolError('ERR_INPUT_TOO_LARGE', 'WWW-Authenticate header too large', {
        detail: `more than ${MAX_WWW_AUTHENTICATE_LENGTH} characters`,
      })
    }
  }
  return values
}

/**
 * Parses every challenge in `WWW-Authenticate` field values, in order.
 *
 * Accepts one field value, an array of raw field values (one per header line; each is parsed on
 * its own, so an unterminated quote in one line cannot swallow the next), or a `Headers` object.
 * An absent header or an empty list gives `[]`.
 *
 * Scheme and parameter names are case-insensitive: parameter names are lower-cased, the scheme
 * is kept as sent with a lower-cased copy in `normalizedScheme`. Quoted values are unescaped.
 * OWS around `=` (BWS) and empty list elements are accepted.
 *
 * @example
 * ```ts
 * parseWwwAuthenticate('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple"')
 * // [{ scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' }, ... },
 * //  { scheme: 'Basic', params: { realm: 'simple' }, ... }]
 * ```
 * @throws {ProtocolError} `ERR_INVALID_HEADER` on any syntax error or a parameter named twice in
 *   one challenge (the whole input is rejected, see the module notes); `ERR_INPUT_TOO_LARGE` above
 *   {@link MAX_WWW_AUTHENTICATE_LENGTH} characters; `ERR_INVALID_ARGUMENT` for an input of the
 *   wrong type.
 * @see [RFC 9110 §11.6.1](https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1)
 * @see [RFC 9110 §11.2](https://www.rfc-editor.org/rfc/rfc9110#section-11.2)
 * @see [RFC 9110 §5.6](https://www.rfc-editor.org/rfc/rfc9110#section-5.6) lists, tokens, quoted-strings
 */
export function parseWwwAuthenticate(input: string | readonly string[] | Headers): ParsedChallenge[] {
  const challenges: ParsedChallenge[] = []
  for (const value of fieldValues(input)) parseFieldValue(value, challenges)
  return challenges
}

function invalidArgument(message: string): never {
  throw new ProtocolError('ERR_INVALID_ARGUMENT', message)
}

/** A quoted-string for `value`, escaping `"` and `\` (RFC 9110 §5.6.4). */
function quote(value: string): string {
  let out = '"'
  let segment = 0
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c === DQUOTE || c === BACKSLASH) {
      out += `${value.slice(segment, i)}\\`
      segment = i
    } else if (!isQdtext(c)) {
      // CR, LF and other controls would split or corrupt the header (response splitting).
      invalidArgument('auth-param value contains a character not allowed in a header')
    }
  }
  return `${out}${value.slice(segment)}"`
}

/**
 * Serializes one challenge: `scheme`, then the token68 or the auth-params in their own order.
 * Values that are not tokens (and `realm` always) are sent as quoted-strings with `"` and `\`
 * escaped.
 *
 * @throws {ProtocolError} `ERR_INVALID_ARGUMENT` when the scheme or a parameter name is not a
 *   token, the token68 is malformed or comes with parameters, a name occurs twice
 *   (case-insensitively), or a value holds CR, LF, another control character or a character
 *   above U+00FF.
 * @see [RFC 9110 §11.2](https://www.rfc-editor.org/rfc/rfc9110#section-11.2)
 * @see [RFC 9110 §11.5](https://www.rfc-editor.org/rfc/rfc9110#section-11.5) `realm` as quoted-string
 */
export function serializeChallenge(challenge: Challenge, options: SerializeChallengeOptions = {}): string {
  if (typeof challenge.scheme !== 'string' || !isToken(challenge.scheme)) {
    invalidArgument('auth-scheme must be a token')
  }
  const entries = Object.entries(challenge.params)
  if (challenge.token68 !== undefined) {
    if (typeof challenge.token68 !== 'string' || !isToken68(challenge.token68)) {
      invalidArgument('token68 is malformed')
    }
    if (entries.length > 0) invalidArgument('a challenge has either a token68 or auth-params, not both')
    return `${challenge.scheme} ${challenge.token68}`
  }
  if (entries.length === 0) return challenge.scheme
  const alwaysQuote = options.quote === 'always'
  const seen = new Set<string>()
  const parts: string[] = []
  for (const [name, value] of entries) {
    if (!isToken(name)) invalidArgument('auth-param name must be a token')
    const key = name.toLowerCase()
    // RFC 9110 §11.2: each parameter name MUST only occur once per challenge.
    if (seen.has(key)) invalidArgument('auth-param name occurs twice')
    seen.add(key)
    if (typeof value !== 'string') invalidArgument('auth-param value must be a string')
    const asToken = !alwaysQuote && key !== 'realm' && isToken(value)
    parts.push(`${name}=${asToken ? value : quote(value)}`)
  }
  return `${challenge.scheme} ${parts.join(', ')}`
}

/**
 * Serializes several challenges into one `WWW-Authenticate` field value, comma-separated.
 *
 * @throws {ProtocolError} `ERR_INVALID_ARGUMENT` for an empty list (a 401 response MUST carry at
 *   least one challenge) or any challenge {@link serializeChallenge} rejects.
 * @see [RFC 9110 §11.6.1](https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1)
 */
export function serializeChallenges(challenges: readonly Challenge[]): string {
  if (challenges.length === 0) invalidArgument('at least one challenge is required')
  return challenges.map((challenge) => serializeChallenge(challenge)).join(', ')
}

const BEARER_FIELDS = [
  'resource_metadata',
  'scope',
  'error',
  'error_description',
  'error_uri',
  'realm',
] as const

/**
 * The first challenge whose scheme is `Bearer` (case-insensitively), with the RFC 6750 §3 and
 * RFC 9728 §5.1 parameters picked out. Parameter names are matched case-insensitively. A
 * `Bearer` challenge carrying a token68 instead of parameters has no fields set.
 *
 * Values are returned as sent: the caller validates `resource_metadata` (RFC 9728 §3.3) and
 * parses `scope` (RFC 6749 §3.3) before using them.
 *
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 * @see [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)
 */
export function findBearerChallenge(challenges: readonly Challenge[]): BearerChallenge | undefined {
  const challenge = challenges.find((c) => c.scheme.toLowerCase() === 'bearer')
  if (challenge === undefined) return undefined
  const params = Object.create(null) as Record<string, string>
  for (const [name, value] of Object.entries(challenge.params)) {
    const key = name.toLowerCase()
    if (!Object.hasOwn(params, key)) params[key] = value
  }
  const result: BearerChallenge = { params }
  for (const field of BEARER_FIELDS) {
    const value = params[field]
    if (value !== undefined) result[field] = value
  }
  return result
}

/** Whether every character of `s` is in `%x20-21 / %x23-5B / %x5D-7E` (or without SP). */
function isRfc6750Chars(s: string, allowSpace: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    const ok =
      c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e) || (allowSpace && c === SPACE)
    if (!ok) return false
  }
  return true
}

/**
 * Builds a `Bearer` challenge for a `WWW-Authenticate` header, every value quoted, parameters in
 * a stable order: `realm`, `error`, `error_description`, `scope`, `resource_metadata`,
 * `error_uri`, then `extra` in its own order.
 *
 * @example
 * ```ts
 * bearerChallenge({ error: 'insufficient_scope', scope: ['files:read'], resource_metadata: prmUrl })
 * // 'Bearer error="insufficient_scope", scope="files:read", resource_metadata="https://…"'
 * ```
 * @throws {ProtocolError} `ERR_INVALID_ARGUMENT` when `error` or `error_uri` holds characters
 *   RFC 6750 §3 does not allow, or an `extra` parameter is invalid or repeats another name;
 *   `ERR_INVALID_SCOPE` when a scope is not a scope-token.
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 * @see [RFC 9728 §5.1](https://www.rfc-editor.org/rfc/rfc9728#section-5.1)
 */
export function bearerChallenge(params: BearerChallengeParams = {}): string {
  const out: Record<string, string> = {}
  if (params.realm !== undefined) out['realm'] = params.realm
  if (params.error !== undefined) {
    if (!isRfc6750Chars(params.error, true))
      invalidArgument('error holds characters RFC 6750 §3 does not allow')
    out['error'] = params.error
  }
  if (params.error_description !== undefined) {
    out['error_description'] = sanitizeDescription(params.error_description)
  }
  if (params.scope !== undefined) out['scope'] = serializeScope(params.scope)
  if (params.resource_metadata !== undefined) out['resource_metadata'] = params.resource_metadata
  if (params.error_uri !== undefined) {
    if (!isRfc6750Chars(params.error_uri, false)) {
      invalidArgument('error_uri holds characters RFC 6750 §3 does not allow')
    }
    out['error_uri'] = params.error_uri
  }
  for (const [name, value] of Object.entries(params.extra ?? {})) {
    if ((BEARER_FIELDS as readonly string[]).includes(name.toLowerCase())) {
      invalidArgument('extra repeats a Bearer parameter')
    }
    // defineProperty, not assignment: an extra named `__proto__` stays a parameter.
    // Names repeated case-insensitively inside `extra` are rejected by serializeChallenge.
    Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true })
  }
  return serializeChallenge({ scheme: 'Bearer', params: out }, { quote: 'always' })
}
