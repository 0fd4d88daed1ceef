/**
 * A small authorization server and MCP resource server on 127.0.0.1 for client tests: real HTTP,
 * every request recorded, behaviour switchable per test.
 */

import { createHash } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { RedirectHandler } from '../../src/client/index.js'

export interface RecordedRequest {
  method: string
  path: string
  query: URLSearchParams
  form: URLSearchParams
  headers: IncomingMessage['headers']
}

export interface FakeServerOptions {
  /** Overrides members of the AS metadata (null removes one). */
  metadata?: Record<string, unknown>
  /** Required scopes for /mcp; a token with fewer gets 403 insufficient_scope. */
  requiredScope?: string[]
  /** Scope put in the 401 challenge. */
  challengeScope?: string
  /** `iss` sent in the authorization response: the issuer (default), another value, or none. */
  iss?: string | null
  /** Access token lifetime in seconds. */
  expiresIn?: number
  /** Answer the token endpoint with this error once per listed grant type. */
  tokenErrors?: Partial<Record<string, { error: string; status?: number; times?: number }>>
  /** Delay token responses (ms), to widen race windows. */
  tokenDelayMs?: number
  /** PRM `resource` override. */
  prmResource?: string
  /** Which tokens /mcp accepts (default: the ones this server issued). */
  tokenLookup?: (token: string) => string[] | undefined
  /** PRM `authorization_servers` override. */
  authorizationServers?: () => string[]
}

export interface FakeServer {
  base: string
  issuer: string
  mcpUrl: string
  requests: RecordedRequest[]
  options: FakeServerOptions
  /** Requests to a path (and form grant_type, if given). */
  count(path: string, grantType?: string): number
  /** Issued access tokens and their scopes. */
  tokens: Map<string, string[]>
  close(): Promise<void>
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let data = ''
    request.setEncoding('utf8')
    request.on('data', (chunk) => {
      data += chunk
    })
    request.on('end', () => resolve(data))
  })
}

function json(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers })
  response.end(JSON.stringify(body))
}

export async function startFakeServer(options: FakeServerOptions = {}): Promise<FakeServer> {
  const requests: RecordedRequest[] = []
  const tokens = new Map<string, string[]>()
  const refreshTokens = new Map<string, string[]>()
  const codes = new Map<string, { scope: string[]; challenge: string }>()
  const errorsLeft = new Map<string, number>()
  let counter = 0
  let base = ''

  const server: Server = createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', base)
      const body = await readBody(request)
      const form = new URLSearchParams(request.headers['content-type']?.includes('form') ? body : '')
      requests.push({
        method: request.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        form,
        headers: request.headers,
      })
      const issuer = base
      switch (url.pathname) {
        case '/.well-known/oauth-protected-resource/mcp':
          json(response, 200, {
            resource: options.prmResource ?? `${base}/mcp`,
            authorization_servers: options.authorizationServers?.() ?? [issuer],
            scopes_supported: ['mcp:read', 'mcp:write'],
          })
          return
        case '/.well-known/oauth-authorization-server': {
          const metadata: Record<string, unknown> = {
            issuer,
            authorization_endpoint: `${base}/authorize`,
            token_endpoint: `${base}/token`,
            registration_endpoint: `${base}/register`,
            revocation_endpoint: `${base}/revoke`,
            response_types_supported: ['code'],
            grant_types_supported: ['authorization_code', 'refresh_token'],
            code_challenge_methods_supported: ['S256'],
            token_endpoint_auth_methods_supported: ['none', 'client_secret_basic'],
            authorization_response_iss_parameter_supported: true,
            scopes_supported: ['mcp:read', 'mcp:write', 'offline_access'],
          }
          for (const [key, value] of Object.entries(options.metadata ?? {})) {
            if (value === null) delete metadata[key]
            else metadata[key] = value
          }
          json(response, 200, metadata)
          return
        }
        case '/register': {
          const metadata = JSON.parse(body) as Record<string, unknown>
          counter++
          json(response, 201, { ...metadata, client_id: `client-${new URL(base).port}-${counter}` })
          return
        }
        case '/authorize': {
          const redirect = new URL(url.searchParams.get('redirect_uri')!)
          const code = `code-${++counter}`
          codes.set(code, {
            scope: (url.searchParams.get('scope') ?? '').split(' ').filter(Boolean),
            challenge: url.searchParams.get('code_challenge') ?? '',
          })
          redirect.searchParams.set('code', code)
          redirect.searchParams.set('state', url.searchParams.get('state') ?? '')
          const iss = options.iss === undefined ? issuer : options.iss
          if (iss !== null) redirect.searchParams.set('iss', iss)
          response.writeHead(302, { location: redirect.href })
          response.end()
          return
        }
        case '/token': {
          const grant = form.get('grant_type') ?? ''
          const planned = options.tokenErrors?.[grant]
          if (planned !== undefined) {
            const left = errorsLeft.get(grant) ?? planned.times ?? 1
            if (left > 0) {
              errorsLeft.set(grant, left - 1)
              json(response, planned.status ?? 400, { error: planned.error })
              return
            }
          }
          if (options.tokenDelayMs !== undefined)
            await new Promise((r) => setTimeout(r, options.tokenDelayMs))
          let scope: string[] = []
          if (grant === 'authorization_code') {
            const entry = codes.get(form.get('code') ?? '')
            const verifier = form.get('code_verifier') ?? ''
            const computed = createHash('sha256').update(verifier).digest('base64url')
            if (entry === undefined || computed !== entry.challenge) {
              json(response, 400, { error: 'invalid_grant' })
              return
            }
            codes.delete(form.get('code')!)
            scope = entry.scope
          } else if (grant === 'refresh_token') {
            const previous = refreshTokens.get(form.get('refresh_token') ?? '')
            if (previous === undefined) {
              json(response, 400, { error: 'invalid_grant' })
              return
            }
            // Rotation: the presented refresh token is spent.
            refreshTokens.delete(form.get('refresh_token')!)
            scope = previous
          } else {
            json(response, 400, { error: 'unsupported_grant_type' })
            return
          }
          const access = `at-${++counter}`
          const refresh = `rt-${counter}`
          tokens.set(access, scope)
          refreshTokens.set(refresh, scope)
          json(response, 200, {
            access_token: access,
            token_type: 'Bearer',
            expires_in: options.expiresIn ?? 3600,
            refresh_token: refresh,
            scope: scope.join(' '),
          })
          return
        }
        case '/revoke':
          tokens.delete(form.get('token') ?? '')
          refreshTokens.delete(form.get('token') ?? '')
          response.writeHead(200)
          response.end()
          return
        case '/mcp': {
          const prm = `${base}/.well-known/oauth-protected-resource/mcp`
          const auth = request.headers.authorization
          const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined
          const scope =
            token === undefined ? undefined : (options.tokenLookup ?? ((t) => tokens.get(t)))(token)
          if (scope === undefined) {
            const challengeScope =
              options.challengeScope === undefined ? '' : `, scope="${options.challengeScope}"`
            response.writeHead(401, {
              'www-authenticate': `Bearer error="invalid_token", resource_metadata="${prm}"${challengeScope}`,
            })
            response.end()
            return
          }
          const missing = (options.requiredScope ?? []).filter((s) => !scope.includes(s))
          if (missing.length > 0) {
            response.writeHead(403, {
              'www-authenticate': `Bearer error="insufficient_scope", scope="${missing.join(' ')}", resource_metadata="${prm}"`,
            })
            response.end()
            return
          }
          json(response, 200, { ok: true, body })
          return
        }
        default:
          response.writeHead(404)
          response.end()
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    issuer: base,
    mcpUrl: `${base}/mcp`,
    requests,
    options,
    tokens,
    count: (path, grantType) =>
      requests.filter(
        (r) => r.path === path && (grantType === undefined || r.form.get('grant_type') === grantType),
      ).length,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** A redirect handler that plays the browser: it loads the URL and reads the redirect's query. */
export function headlessRedirect(
  redirectUri = 'http://127.0.0.1:9/callback',
  observe?: (url: string) => void,
): RedirectHandler & { opened: string[] } {
  const opened: string[] = []
  return {
    opened,
    async start() {
      return {
        redirectUri,
        async authorize(url: string) {
          opened.push(url)
          observe?.(url)
          const response = await fetch(url, { redirect: 'manual' })
          const location = response.headers.get('location')
          if (location === null) throw new Error(`no redirect from ${url}`)
          return new URL(location).searchParams
        },
        async close() {},
      }
    },
  }
}
