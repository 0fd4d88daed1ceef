/**
 * Rendering the login, consent and error pages for a transaction: what the user must see (client
 * name, CIMD host, redirect host, resource, scopes) and the CSRF token bound to the browser.
 *
 * @module
 */
import { isLoopbackHost } from '../protocol/resource.js'
import type { Client, ServerContext } from './context.js'
import type { LoginUser, ResolvedResource } from './options.js'
import { consentPage, errorPage, formActionSourceFor, loginPage, STYLESHEET_PATH } from './pages/index.js'

/** Copies a page response with another status and extra headers. */
export function withHeaders(response: Response, status: number, extra: [string, string][]): Response {
  const headers = new Headers(response.headers)
  for (const [name, value] of extra) headers.append(name, value)
  return new Response(response.body, { status, headers })
}

/** The local error page (never a redirect). */
export function renderError(status: number, title: string, message: string): Response {
  return errorPage({ status, title, message })
}

/** The name shown for a client: its registered name, else its id. */
export function clientDisplayName(client: Client): string {
  const name = client.metadata.client_name
  return typeof name === 'string' && name.trim() !== '' ? name : client.client_id
}

/** Where the browser will go: the host of an http(s) URI, or the scheme (and host) of a private-use one. */
export function redirectHost(uri: string): string {
  const url = new URL(uri)
  if (url.protocol === 'https:' || url.protocol === 'http:') return url.host
  return url.host === '' ? url.protocol : `${url.protocol}//${url.host}`
}

/** The login page of a transaction, with the CSRF cookie when the browser has none. */
export async function renderLogin(
  ctx: ServerContext,
  request: Request,
  transactionId: string,
  client: Client,
  options: { status?: number; error?: string; username?: string; extraCookies?: string[] } = {},
): Promise<Response> {
  const csrf = await ctx.csrf.issue(request, transactionId)
  const page = loginPage({
    action: ctx.paths.login,
    transactionId,
    csrfToken: csrf.token,
    clientName: clientDisplayName(client),
    ...(ctx.basePath === '' ? {} : { stylesheetPath: `${ctx.basePath}${STYLESHEET_PATH}` }),
    ...(options.username === undefined ? {} : { username: options.username }),
    ...(options.error === undefined ? {} : { error: options.error }),
  })
  const cookies = [...(options.extraCookies ?? []), ...(csrf.setCookie === undefined ? [] : [csrf.setCookie])]
  return withHeaders(
    page,
    options.status ?? page.status,
    cookies.map((c) => ['set-cookie', c]),
  )
}

/**
 * The consent page: client name (escaped by the page), CIMD host, redirect host with a warning for
 * localhost-only clients, resource and each scope with its description.
 *
 * @see [MCP Authorization: Client ID Metadata Document security](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#client-id-metadata-documents) display the redirect URI hostname
 */
export async function renderConsent(
  ctx: ServerContext,
  request: Request,
  input: {
    transactionId: string
    client: Client
    redirectUri: string
    resource: ResolvedResource
    scopes: string[]
    /** Unknown before an upstream login. */
    user: LoginUser | undefined
    extraCookies?: string[]
  },
): Promise<Response> {
  const csrf = await ctx.csrf.issue(request, input.transactionId)
  const formAction = formActionSourceFor(input.redirectUri)
  const upstream = 'upstream' in ctx.login ? ctx.login.upstream : undefined
  const user = input.user ?? { subject: '', name: `your ${upstream?.name ?? 'account'}` }
  const sources = [
    ...(formAction === undefined ? [] : [formAction]),
    ...(upstream === undefined ? [] : await upstream.formActionSources()),
  ]
  const registered = input.client.metadata.redirect_uris ?? []
  const localhostOnly =
    registered.length > 0 &&
    registered.every((u) => {
      try {
        const url = new URL(u)
        return url.protocol === 'http:' && isLoopbackHost(url.hostname)
      } catch {
        return false
      }
    })
  const page = consentPage({
    action: ctx.paths.consent,
    transactionId: input.transactionId,
    csrfToken: csrf.token,
    client: {
      id: input.client.client_id,
      name: clientDisplayName(input.client),
      ...(input.client.kind === 'cimd' ? { cimdHost: new URL(input.client.client_id).host } : {}),
    },
    redirectUri: input.redirectUri,
    redirectHost: redirectHost(input.redirectUri),
    localhostOnly,
    resource: {
      uri: input.resource.uri,
      ...(input.resource.name === undefined ? {} : { name: input.resource.name }),
    },
    scopes: input.scopes.map((name) => {
      const description = input.resource.scopes.get(name)
      return description === undefined ? { name } : { name, description }
    }),
    user: user.name === undefined ? { subject: user.subject } : { subject: user.subject, name: user.name },
    allowRemember: ctx.rememberConsent,
    // Chromium applies form-action to the redirect that follows the POST (to the client or the provider).
    formActionSources: sources,
    ...(upstream === undefined ? {} : { upstreamName: upstream.name }),
    ...(ctx.basePath === '' ? {} : { stylesheetPath: `${ctx.basePath}${STYLESHEET_PATH}` }),
  })
  const cookies = [...(input.extraCookies ?? []), ...(csrf.setCookie === undefined ? [] : [csrf.setCookie])]
  return withHeaders(
    page,
    page.status,
    cookies.map((c) => ['set-cookie', c]),
  )
}
