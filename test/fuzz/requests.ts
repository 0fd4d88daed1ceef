/**
 * fast-check generators of hostile HTTP requests for every endpoint of the authorization server and
 * the resource server, and a raw-socket sender (so invalid UTF-8, duplicated headers and huge
 * headers reach the server as generated, not as a client library would clean them up).
 *
 * Values mix garbage with the real thing (a registered client id, live tokens, a pending
 * transaction with its CSRF token and cookie), so the generated requests get past the first checks
 * and reach the deeper ones.
 */
import { connect } from 'node:net'
import fc from 'fast-check'

/** Real values the generators mix in. */
export interface FuzzContext {
  clientId: string
  redirectUri: string
  resource: string
  accessToken: string
  refreshToken: string
  transaction: string
  csrf: string
  /** The `Cookie` header of the browser that holds the pending transaction. */
  cookie: string
}

/** A request as bytes on the wire. */
export interface RawRequest {
  server: 'as' | 'rs'
  method: string
  /** The request target, as bytes (may hold invalid UTF-8). */
  target: Buffer
  headers: [string, Buffer | string][]
  body: Buffer
}

const AS_PATHS = {
  metadata: ['GET', '/.well-known/oauth-authorization-server'],
  openid: ['GET', '/.well-known/openid-configuration'],
  jwks: ['GET', '/jwks'],
  authorize: ['GET', '/authorize'],
  login: ['POST', '/interaction/login'],
  consent: ['POST', '/interaction/consent'],
  token: ['POST', '/token'],
  register: ['POST', '/register'],
  revoke: ['POST', '/revoke'],
  introspect: ['POST', '/introspect'],
  stylesheet: ['GET', '/assets/portcullis.css'],
} as const

const RS_PATHS = {
  mcp: ['POST', '/mcp'],
  mcpGet: ['GET', '/mcp'],
  prm: ['GET', '/.well-known/oauth-protected-resource/mcp'],
  prmRoot: ['GET', '/.well-known/oauth-protected-resource'],
} as const

const PARAMETER_NAMES = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'prompt',
  'nonce',
  'grant_type',
  'code',
  'code_verifier',
  'refresh_token',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'assertion',
  'token',
  'token_type_hint',
  'transaction',
  'csrf',
  'username',
  'password',
  'decision',
  'remember',
  'request',
  'request_uri',
  'response_mode',
  'iss',
]

const ENUMS = [
  'code',
  'token',
  'authorization_code',
  'refresh_token',
  'client_credentials',
  'urn:ietf:params:oauth:grant-type:jwt-bearer',
  'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
  'S256',
  'plain',
  'approve',
  'deny',
  'on',
  'notes:read',
  'notes:read notes:write notes:admin offline_access',
  'access_token',
  'none',
  'load',
  'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
  'dBjftJeZ4CVP-mJ0Z3Bx6RgTdfGDoFtLdwwGpQcXbNHjs',
]

/** Raw bytes that are not UTF-8: lone continuation bytes, overlongs, surrogate encodings, 0xFF. */
const invalidUtf8 = fc.constantFrom(
  Buffer.from([0xff]),
  Buffer.from([0xc3, 0x28]),
  Buffer.from([0xe2, 0x28, 0xa1]),
  Buffer.from([0xed, 0xa0, 0x80]),
  Buffer.from([0xc0, 0xaf]),
  Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80]),
  Buffer.from([0x80, 0x80, 0x80]),
  Buffer.from([0x00]),
)

/** A value as text (possibly with lone surrogates, which `encodeURIComponent` refuses). */
function valueArb(ctx: FuzzContext): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.constantFrom(ctx.clientId, ctx.redirectUri, ctx.resource, ctx.transaction, ctx.csrf),
    },
    { weight: 2, arbitrary: fc.constantFrom(ctx.accessToken, ctx.refreshToken) },
    { weight: 4, arbitrary: fc.constantFrom(...ENUMS) },
    { weight: 3, arbitrary: fc.string({ maxLength: 40 }) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('', ' ', '\u0000', '\r\n', '%', '%zz', '../../', '<script>', "' or 1=1--"),
    },
    { weight: 1, arbitrary: fc.integer().map(String) },
    // Oversized: past every parameter and body limit.
    { weight: 1, arbitrary: fc.integer({ min: 4_000, max: 120_000 }).map((n) => 'A'.repeat(n)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom(ctx.clientId, ctx.refreshToken, 'x'), fc.string({ maxLength: 4 }))
        .map(([real, suffix]) => real + suffix),
    },
  )
}

function percentEncode(text: string): string {
  try {
    return encodeURIComponent(text)
  } catch {
    // A lone surrogate: send it as UTF-8 bytes of the replacement, percent-encoded raw.
    return Buffer.from(text, 'utf8').toString('hex').replace(/(..)/g, '%$1')
  }
}

/** `name=value&...` pairs, names possibly repeated, as bytes; some raw invalid UTF-8 in places. */
function paramsArb(ctx: FuzzContext): fc.Arbitrary<Buffer> {
  const name = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...PARAMETER_NAMES) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  )
  const pair = fc.oneof(
    {
      weight: 8,
      arbitrary: fc
        .tuple(name, valueArb(ctx))
        .map(([k, v]) => Buffer.from(`${percentEncode(k)}=${percentEncode(v)}`)),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(name, invalidUtf8)
        .map(([k, bytes]) => Buffer.concat([Buffer.from(`${percentEncode(k)}=`), bytes])),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(name, invalidUtf8)
        .map(([k, bytes]) =>
          Buffer.from(
            `${percentEncode(k)}=${[...bytes].map((b) => `%${b.toString(16).padStart(2, '0')}`).join('')}`,
          ),
        ),
    },
  )
  return fc.array(pair, { maxLength: 14 }).chain((pairs) =>
    // Duplicate some of the pairs (RFC 6749 §3.1 forbids repeated parameters).
    fc
      .subarray(pairs)
      .map((dups) =>
        Buffer.concat([...pairs, ...dups].flatMap((p, i) => (i === 0 ? [p] : [Buffer.from('&'), p]))),
      ),
  )
}

/** JSON bodies for registration and MCP: right shapes with wrong types, and anything at all. */
function jsonArb(ctx: FuzzContext): fc.Arbitrary<Buffer> {
  const anything = fc.oneof(fc.jsonValue({ maxDepth: 3 }), valueArb(ctx), fc.constant(null))
  const registration = fc.record(
    {
      redirect_uris: fc.oneof(
        fc.constant([ctx.redirectUri]),
        fc.array(valueArb(ctx), { maxLength: 3 }),
        anything,
      ),
      token_endpoint_auth_method: fc.oneof(
        fc.constantFrom('none', 'client_secret_basic', 'client_secret_post', 'private_key_jwt'),
        anything,
      ),
      grant_types: fc.oneof(fc.constant(['authorization_code', 'refresh_token']), anything),
      response_types: anything,
      client_name: anything,
      client_uri: anything,
      logo_uri: anything,
      scope: anything,
      application_type: fc.oneof(fc.constantFrom('native', 'web'), anything),
      jwks: anything,
      jwks_uri: fc.oneof(fc.constant('https://jwks.invalid/keys'), anything),
      software_statement: anything,
    },
    { requiredKeys: [] },
  )
  const rpc = fc.record(
    {
      jsonrpc: fc.oneof(fc.constant('2.0'), anything),
      id: fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), anything),
      method: fc.oneof(
        fc.constantFrom('tools/call', 'tools/list', 'initialize', 'ping', 'resources/list'),
        anything,
      ),
      params: fc.oneof(
        fc.record(
          {
            name: fc.oneof(fc.constantFrom('whoami', 'list_notes', 'add_note', 'delete_all_notes'), anything),
            arguments: anything,
          },
          { requiredKeys: [] },
        ),
        anything,
      ),
    },
    { requiredKeys: [] },
  )
  return fc
    .oneof(
      { weight: 3, arbitrary: registration },
      { weight: 3, arbitrary: rpc },
      { weight: 1, arbitrary: fc.array(rpc, { maxLength: 4 }) },
      { weight: 1, arbitrary: anything },
    )
    .map((value) => Buffer.from(JSON.stringify(value) ?? 'null'))
}

function bodyArb(ctx: FuzzContext): fc.Arbitrary<{ body: Buffer; contentType: string | undefined }> {
  const contentType = fc.oneof(
    fc.constantFrom(
      'application/x-www-form-urlencoded',
      'application/json',
      'application/x-www-form-urlencoded; charset=iso-8859-1',
      'APPLICATION/JSON; charset=utf-16',
      'text/plain',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded, application/json',
      '',
    ),
    fc.constant(undefined),
    fc.string({ maxLength: 30 }),
  )
  const body = fc.oneof(
    { weight: 4, arbitrary: paramsArb(ctx) },
    { weight: 4, arbitrary: jsonArb(ctx) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(jsonArb(ctx), invalidUtf8)
        .map(([json, bad]) =>
          Buffer.concat([json.subarray(0, json.length - 1), bad, json.subarray(json.length - 1)]),
        ),
    },
    { weight: 1, arbitrary: fc.integer({ min: 60_000, max: 300_000 }).map((n) => Buffer.alloc(n, 0x61)) },
    { weight: 1, arbitrary: fc.constant(Buffer.alloc(0)) },
  )
  return fc.record({ body, contentType })
}

function headersArb(ctx: FuzzContext): fc.Arbitrary<[string, Buffer | string][]> {
  const basic = (user: string, pass: string) => `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`
  const authorization = fc.oneof(
    fc.constant(`Bearer ${ctx.accessToken}`),
    fc.constant(`Bearer ${ctx.refreshToken}`),
    valueArb(ctx).map((v) => `Bearer ${v}`),
    fc.tuple(valueArb(ctx), valueArb(ctx)).map(([u, p]) => basic(u, p)),
    fc.constantFrom(
      'Basic',
      'Basic !!!',
      'Bearer',
      'DPoP x',
      'bearer  ',
      `Bearer ${ctx.accessToken}, Bearer x`,
    ),
    fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, '')),
  )
  const header = fc.oneof(
    fc.tuple(fc.constant('authorization'), authorization),
    fc.tuple(
      fc.constant('cookie'),
      fc.oneof(
        fc.constant(ctx.cookie),
        valueArb(ctx).map((v) => `portcullis_csrf=${percentEncode(v)}`),
      ),
    ),
    fc.tuple(
      fc.constant('sec-fetch-site'),
      fc.constantFrom('none', 'same-origin', 'cross-site', 'same-site', ''),
    ),
    fc.tuple(fc.constant('origin'), fc.constantFrom('http://127.0.0.1', 'https://evil.example', 'null')),
    fc.tuple(
      fc.constant('accept'),
      fc.constantFrom('application/json, text/event-stream', 'text/html', '*/*', 'application/json'),
    ),
    fc.tuple(fc.constant('x-forwarded-for'), fc.constantFrom('1.2.3.4', 'garbage, ::1', '')),
    fc.tuple(fc.constant('mcp-protocol-version'), fc.constantFrom('2025-06-18', '2025-11-25', 'x')),
    fc.tuple(fc.constant('x-fuzz'), invalidUtf8),
    // Huge: beyond Node's 16 KiB header limit sometimes, just under it other times.
    fc.tuple(
      fc.constant('x-large'),
      fc.integer({ min: 1_000, max: 40_000 }).map((n) => 'h'.repeat(n)),
    ),
  )
  // Repeats allowed: two Authorization headers is one of the cases.
  return fc.array(header, { maxLength: 6 })
}

type Pairs = [string, string][]

/** A well-formed request, as parameter pairs. */
interface WellFormed {
  server: 'as' | 'rs'
  method: string
  path: string
  kind: 'query' | 'form' | 'json' | 'rpc'
  pairs: Pairs
}

/** The well-formed request of each endpoint. */
function wellFormed(ctx: FuzzContext): WellFormed[] {
  return [
    {
      server: 'as',
      method: 'GET',
      path: '/authorize',
      kind: 'query',
      pairs: [
        ['response_type', 'code'],
        ['client_id', ctx.clientId],
        ['redirect_uri', ctx.redirectUri],
        ['code_challenge', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'],
        ['code_challenge_method', 'S256'],
        ['resource', ctx.resource],
        ['scope', 'notes:read'],
        ['state', 'xyz'],
      ],
    },
    {
      server: 'as',
      method: 'POST',
      path: '/token',
      kind: 'form',
      pairs: [
        ['grant_type', 'refresh_token'],
        ['client_id', ctx.clientId],
        ['refresh_token', ctx.refreshToken],
      ],
    },
    {
      server: 'as',
      method: 'POST',
      path: '/token',
      kind: 'form',
      pairs: [
        ['grant_type', 'authorization_code'],
        ['client_id', ctx.clientId],
        ['code', 'SplxlOBeZQQYbYS6WxSbIA'],
        ['redirect_uri', ctx.redirectUri],
        ['code_verifier', 'dBjftJeZ4CVP-mJ0Z3Bx6RgTdfGDoFtLdwwGpQcXbNHjs'],
        ['resource', ctx.resource],
      ],
    },
    {
      server: 'as',
      method: 'POST',
      path: '/revoke',
      kind: 'form',
      pairs: [
        ['token', ctx.accessToken],
        ['token_type_hint', 'access_token'],
        ['client_id', ctx.clientId],
      ],
    },
    {
      server: 'as',
      method: 'POST',
      path: '/introspect',
      kind: 'form',
      pairs: [
        ['token', ctx.accessToken],
        ['client_id', ctx.clientId],
      ],
    },
    {
      server: 'as',
      method: 'POST',
      path: '/interaction/login',
      kind: 'form',
      pairs: [
        ['transaction', ctx.transaction],
        ['csrf', ctx.csrf],
        ['username', 'load'],
        ['password', 'wrong password'],
      ],
    },
    {
      server: 'as',
      method: 'POST',
      path: '/interaction/consent',
      kind: 'form',
      pairs: [
        ['transaction', ctx.transaction],
        ['csrf', ctx.csrf],
        ['decision', 'approve'],
      ],
    },
    {
      server: 'as',
      method: 'POST',
      path: '/register',
      kind: 'json',
      pairs: [
        ['redirect_uris', JSON.stringify([ctx.redirectUri])],
        ['token_endpoint_auth_method', '"none"'],
        ['grant_types', '["authorization_code","refresh_token"]'],
        ['client_name', '"Fuzz"'],
        ['application_type', '"native"'],
      ],
    },
    {
      server: 'rs',
      method: 'POST',
      path: '/mcp',
      kind: 'rpc',
      pairs: [
        ['jsonrpc', '"2.0"'],
        ['id', '1'],
        ['method', '"tools/call"'],
        ['params', '{"name":"add_note","arguments":{"text":"x"}}'],
      ],
    },
  ]
}

/**
 * A well-formed request with one change: a parameter replaced by a generated value, dropped, or
 * sent twice. These get past the first checks, so the deeper ones are exercised.
 */
function nearValidArb(ctx: FuzzContext): fc.Arbitrary<RawRequest> {
  const specs = wellFormed(ctx)
  const jsonValue = fc.oneof(
    valueArb(ctx).map((v) => JSON.stringify(v)),
    fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
  )
  return fc
    .record({
      spec: fc.constantFrom(...specs),
      index: fc.nat(),
      op: fc.constantFrom('replace', 'replace', 'drop', 'duplicate', 'none'),
      text: valueArb(ctx),
      json: jsonValue,
    })
    .map(({ spec, index, op, text, json }) => {
      const pairs: Pairs = spec.pairs.map(([k, v]) => [k, v])
      const i = index % pairs.length
      const [name] = pairs[i]!
      const isJson = spec.kind === 'json' || spec.kind === 'rpc'
      if (op === 'replace') pairs[i] = [name, isJson ? json : text]
      if (op === 'drop') pairs.splice(i, 1)
      if (op === 'duplicate') pairs.push([name, isJson ? json : text])
      const headers: [string, string][] = []
      let target = spec.path
      let body = Buffer.alloc(0)
      if (spec.kind === 'query') {
        target += `?${pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&')}`
        headers.push(['sec-fetch-site', 'none'])
      } else if (spec.kind === 'form') {
        body = Buffer.from(pairs.map(([k, v]) => `${percentEncode(k)}=${percentEncode(v)}`).join('&'))
        headers.push(
          ['content-type', 'application/x-www-form-urlencoded'],
          ['cookie', ctx.cookie],
          ['sec-fetch-site', 'same-origin'],
        )
      } else {
        // Duplicate keys in JSON text: the last one wins in JSON.parse, an attacker's favourite.
        body = Buffer.from(`{${pairs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(',')}}`)
        headers.push(['content-type', 'application/json'])
        if (spec.kind === 'rpc') {
          headers.push(
            ['authorization', `Bearer ${ctx.accessToken}`],
            ['accept', 'application/json, text/event-stream'],
          )
        }
      }
      return { server: spec.server, method: spec.method, target: Buffer.from(target), headers, body }
    })
}

/** Requests to one endpoint: near-valid ones, and anything at all (method, target, headers, body). */
export function requestArb(ctx: FuzzContext): fc.Arbitrary<RawRequest> {
  return fc.oneof(nearValidArb(ctx), randomRequestArb(ctx))
}

/** Requests to one endpoint: the right method mostly, parameters in the query or the body. */
function randomRequestArb(ctx: FuzzContext): fc.Arbitrary<RawRequest> {
  type Endpoint = readonly ['as' | 'rs', string, string]
  const endpoint: fc.Arbitrary<Endpoint> = fc.oneof(
    {
      weight: 5,
      arbitrary: fc.constantFrom(...Object.values(AS_PATHS)).map(([m, p]): Endpoint => ['as', m, p]),
    },
    {
      weight: 2,
      arbitrary: fc.constantFrom(...Object.values(RS_PATHS)).map(([m, p]): Endpoint => ['rs', m, p]),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('as', 'rs'), fc.string({ maxLength: 30 }))
        .map(([server, path]): Endpoint => [server, 'GET', `/${percentEncode(path)}`]),
    },
  )
  const method = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    {
      weight: 1,
      arbitrary: fc.constantFrom('GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'TRACE'),
    },
  )
  return fc
    .record({
      endpoint,
      method,
      query: fc.option(paramsArb(ctx), { freq: 2 }),
      rawPath: fc.option(invalidUtf8, { freq: 8 }),
      payload: bodyArb(ctx),
      headers: headersArb(ctx),
    })
    .map(({ endpoint: [server, defaultMethod, path], method: m, query, rawPath, payload, headers }) => {
      const chosen = m ?? defaultMethod
      const parts: Buffer[] = [Buffer.from(path)]
      if (rawPath !== null) parts.push(rawPath)
      if (query !== null) parts.push(Buffer.from('?'), query)
      const all: [string, Buffer | string][] = [...headers]
      if (payload.contentType !== undefined) all.push(['content-type', payload.contentType])
      const withBody = chosen !== 'GET' && chosen !== 'HEAD'
      return {
        server,
        method: chosen,
        target: Buffer.concat(parts),
        headers: all,
        body: withBody ? payload.body : Buffer.alloc(0),
      }
    })
}

/** What came back. */
export interface RawAnswer {
  /** `undefined` when the connection closed without a status line (the server refused the bytes). */
  status: number | undefined
  head: string
  body: string
  timedOut: boolean
  /** The socket error, when there was one (e.g. `ECONNRESET` after an early answer to a large body). */
  error?: string
}

/** Sends `request` on a fresh connection and reads the answer until the server closes it. */
export function sendRaw(port: number, request: RawRequest, timeoutMs = 15_000): Promise<RawAnswer> {
  const lines = [
    Buffer.from(`${request.method} `),
    request.target,
    Buffer.from(` HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`),
  ]
  for (const [name, value] of request.headers)
    lines.push(Buffer.from(`${name}: `), Buffer.from(value), Buffer.from('\r\n'))
  lines.push(Buffer.from(`content-length: ${request.body.length}\r\nconnection: close\r\n\r\n`), request.body)
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    let timedOut = false
    let error: string | undefined
    const timer = setTimeout(() => {
      timedOut = true
      socket.destroy()
    }, timeoutMs)
    socket.on('data', (chunk: Buffer) => chunks.push(chunk))
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message
    })
    socket.on('close', () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const end = text.indexOf('\r\n\r\n')
      const head = end === -1 ? text : text.slice(0, end)
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(head)
      resolve({
        status: match === null ? undefined : Number(match[1]),
        head,
        body: end === -1 ? '' : text.slice(end + 4, end + 4 + 4000),
        timedOut,
        ...(error === undefined ? {} : { error }),
      })
    })
    // No half-close: Node's server drops a request whose client has ended its side.
    socket.write(Buffer.concat(lines))
  })
}
