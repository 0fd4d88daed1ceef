/**
 * Test support for the authorization server: a configured server over the memory store, a fixed
 * clock, a cookie jar, and a browser-like driver for the login and consent forms.
 */

import {
  type AuditEvent,
  type AuthorizationServer,
  type AuthorizationServerOptions,
  createAuthorizationServer,
  localAccounts,
} from '../../src/authorization-server/index.js'
import { computeCodeChallenge, generateCodeVerifier } from '../../src/protocol/pkce.js'
import { createMemoryStore } from '../../src/storage/index.js'
import type { Store } from '../../src/storage/types.js'

export const ISSUER = 'https://as.example.com'
export const RESOURCE = 'https://mcp.example.com/mcp'
export const OTHER_RESOURCE = 'https://other.example.com/mcp'
export const REDIRECT = 'http://127.0.0.1:43210/callback'
export const COOKIE_SECRET = 'test-cookie-secret-0123456789abcdefghijkl'

export interface TestServer {
  as: AuthorizationServer
  store: Store
  events: AuditEvent[]
  clock: { now: number; advance(ms: number): void }
}

/** A server with two resources, local accounts (ada / correct horse) and a fixed clock. */
export async function createTestServer(
  overrides: Partial<AuthorizationServerOptions> = {},
): Promise<TestServer> {
  const store = await createMemoryStore()
  const events: AuditEvent[] = []
  const clock = {
    now: Date.UTC(2026, 0, 1),
    advance(ms: number) {
      this.now += ms
    },
  }
  const as = createAuthorizationServer({
    issuer: ISSUER,
    store,
    resources: [
      {
        uri: RESOURCE,
        name: 'Demo MCP',
        scopes: { 'mcp:tools': 'Use the tools', 'mcp:read': 'Read resources' },
        defaultScopes: ['mcp:tools'],
      },
      { uri: OTHER_RESOURCE, scopes: { 'other:all': 'Everything else' } },
    ],
    login: localAccounts({
      users: [{ username: 'ada', password: 'correct horse', subject: 'user-ada', name: 'Ada' }],
      iterations: 1000,
    }),
    cookieSecret: COOKIE_SECRET,
    clock: () => clock.now,
    onAudit: (e) => {
      events.push(e)
    },
    ...overrides,
  })
  return { as, store, events, clock }
}

/** A PKCE verifier and its S256 challenge. */
export async function pkce(): Promise<{ verifier: string; challenge: string }> {
  const verifier = generateCodeVerifier()
  return { verifier, challenge: await computeCodeChallenge(verifier) }
}

/** A minimal cookie jar for `Set-Cookie` → `Cookie`. */
export class CookieJar {
  readonly cookies = new Map<string, string>()
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      if (value === '' || /max-age=0/i.test(line)) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
  }
  header(): string {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

/** The value of a hidden input in a page. */
export function hiddenField(html: string, name: string): string {
  const match = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
  if (match === null) throw new Error(`no field ${name}`)
  return match[1]!.replace(/&amp;/g, '&')
}

/** Sends a request through the server's handler, with the jar's cookies and a browser's fetch metadata. */
export async function browse(
  as: AuthorizationServer,
  jar: CookieJar,
  url: string,
  init: { method?: string; form?: Record<string, string>; site?: string } = {},
): Promise<Response> {
  const headers = new Headers()
  const cookie = jar.header()
  if (cookie !== '') headers.set('cookie', cookie)
  if (init.site !== undefined) headers.set('sec-fetch-site', init.site)
  let body: string | undefined
  if (init.form !== undefined) {
    headers.set('content-type', 'application/x-www-form-urlencoded')
    body = new URLSearchParams(init.form).toString()
  }
  const response = await as.fetch(
    new Request(new URL(url, ISSUER), {
      method: init.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      ...(body === undefined ? {} : { body }),
    }),
  )
  jar.store(response)
  return response
}

/** An authorization URL for `clientId`. */
export function authorizeUrl(params: Record<string, string | undefined>, issuer = ISSUER): string {
  const url = new URL(`${issuer.replace(/\/$/, '')}/authorize`)
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v)
  return url.href
}

/** When `html` is the login page, logs in as ada and returns the next page (consent); else `html`. */
export async function logInIfAsked(
  as: AuthorizationServer,
  jar: CookieJar,
  html: string,
  password = 'correct horse',
): Promise<string> {
  if (!html.includes('name="password"')) return html
  const page = await browse(as, jar, '/interaction/login', {
    site: 'same-origin',
    form: {
      transaction: hiddenField(html, 'transaction'),
      csrf: hiddenField(html, 'csrf'),
      username: 'ada',
      password,
    },
  })
  if (page.status !== 200) throw new Error(`login failed: ${page.status}`)
  return page.text()
}

/**
 * Drives GET /authorize → login form → consent form like a browser, and returns the final redirect
 * `Location` (the client's redirect URI with `code` or `error`).
 */
export async function authorizeInBrowser(
  as: AuthorizationServer,
  url: string,
  options: { jar?: CookieJar; decision?: 'approve' | 'deny'; remember?: boolean; password?: string } = {},
): Promise<{ location: URL; jar: CookieJar }> {
  const jar = options.jar ?? new CookieJar()
  const page = await browse(as, jar, url, { site: 'none' })
  if (page.status === 302) return { location: new URL(page.headers.get('location')!), jar }
  const html = await logInIfAsked(as, jar, await page.text(), options.password)
  const form: Record<string, string> = {
    transaction: hiddenField(html, 'transaction'),
    csrf: hiddenField(html, 'csrf'),
    decision: options.decision ?? 'approve',
  }
  if (options.remember === true) form['remember'] = 'on'
  const done = await browse(as, jar, '/interaction/consent', { site: 'same-origin', form })
  if (done.status !== 303) throw new Error(`consent failed: ${done.status} ${await done.text()}`)
  return { location: new URL(done.headers.get('location')!), jar }
}

/** POSTs a form to a server endpoint. */
export function postForm(
  as: AuthorizationServer,
  path: string,
  form: Record<string, string | string[]>,
  headers: Record<string, string> = {},
): Promise<Response> {
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(form)) for (const value of [v].flat()) body.append(k, value)
  return as.fetch(
    new Request(new URL(path, ISSUER), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: body.toString(),
    }),
  )
}

/** Registers a public native client by DCR and returns its id. */
export async function registerPublicClient(
  as: AuthorizationServer,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const response = await as.fetch(
    new Request(`${ISSUER}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_name: 'Test client',
        application_type: 'native',
        redirect_uris: [REDIRECT],
        grant_types: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_method: 'none',
        ...extra,
      }),
    }),
  )
  if (response.status !== 201) throw new Error(`registration failed: ${await response.text()}`)
  return ((await response.json()) as { client_id: string }).client_id
}

/**
 * The browser part of the code flow for a public client (PKCE S256, `resource`, `state`): the
 * redirect back to the client, its code, and the PKCE verifier for the exchange.
 */
export async function authorizeCode(
  as: AuthorizationServer,
  clientId: string,
  options: { scope?: string; resource?: string; state?: string } = {},
): Promise<{ location: URL; code: string; verifier: string }> {
  const { verifier, challenge } = await pkce()
  const { location } = await authorizeInBrowser(
    as,
    authorizeUrl({
      response_type: 'code',
      client_id: clientId,
      redirect_uri: REDIRECT,
      code_challenge: challenge,
      code_challenge_method: 'S256',
      resource: options.resource ?? RESOURCE,
      scope: options.scope,
      state: options.state ?? 'xyz',
    }),
  )
  const code = location.searchParams.get('code')
  if (code === null) throw new Error(`no code: ${location.href}`)
  return { location, code, verifier }
}

/** Runs the whole code flow for a public client and returns the token response. */
export async function obtainTokens(
  as: AuthorizationServer,
  clientId: string,
  options: { scope?: string; resource?: string } = {},
): Promise<{ access_token: string; refresh_token: string; scope: string; expires_in: number }> {
  const { code, verifier } = await authorizeCode(as, clientId, options)
  const response = await postForm(as, '/token', {
    grant_type: 'authorization_code',
    code,
    redirect_uri: REDIRECT,
    client_id: clientId,
    code_verifier: verifier,
    resource: options.resource ?? RESOURCE,
  })
  if (response.status !== 200) throw new Error(`token failed: ${await response.text()}`)
  return (await response.json()) as {
    access_token: string
    refresh_token: string
    scope: string
    expires_in: number
  }
}
