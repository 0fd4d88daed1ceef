/**
 * Starts the authorization server on a real loopback socket for interoperability tests, and drives
 * its login and consent pages over HTTP the way a browser does.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { AuditEvent } from '../../src/authorization-server/audit.js'
import { localAccounts } from '../../src/authorization-server/index.js'
import type { NodeAuthorizationServerOptions } from '../../src/node/authorization-server.js'
import {
  createNodeAuthorizationServer,
  type NodeAuthorizationServer,
} from '../../src/node/authorization-server.js'
import { createMemoryStore } from '../../src/storage/index.js'

export const COOKIE_SECRET = 'interop-cookie-secret-0123456789abcdef'

export interface RunningAuthorizationServer {
  issuer: string
  as: NodeAuthorizationServer
  events: AuditEvent[]
  close(): Promise<void>
}

/** Listens on 127.0.0.1 (random port), then builds the server for that issuer. */
export async function startAuthorizationServer(
  options: (
    issuer: string,
  ) => Partial<NodeAuthorizationServerOptions> & Pick<NodeAuthorizationServerOptions, 'resources'>,
  issuerSuffix = '',
): Promise<RunningAuthorizationServer> {
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.writeHead(503).end()
  }
  const server: Server = createServer((req, res) => handler(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const issuer = `http://127.0.0.1:${port}${issuerSuffix}`
  const events: AuditEvent[] = []
  const as = createNodeAuthorizationServer({
    issuer,
    store: await createMemoryStore(),
    login: localAccounts({
      users: [{ username: 'ada', password: 'correct horse', subject: 'user-ada' }],
      iterations: 1000,
    }),
    cookieSecret: COOKIE_SECRET,
    onAudit: (e) => {
      events.push(e)
    },
    ...options(issuer),
  })
  handler = (req, res) => void as.listener(req, res)
  return {
    issuer,
    as,
    events,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** Follows the authorization request through login and consent over HTTP; returns the redirect to the client. */
export async function browserAuthorize(
  authorizationUrl: string,
  credentials: { username: string; password: string } = { username: 'ada', password: 'correct horse' },
): Promise<URL> {
  const cookies = new Map<string, string>()
  const send = async (
    url: string,
    form?: Record<string, string>,
    site = 'same-origin',
  ): Promise<Response> => {
    const headers: Record<string, string> = { 'sec-fetch-site': site }
    if (cookies.size > 0) headers['cookie'] = [...cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded'
    const response = await fetch(url, {
      method: form === undefined ? 'GET' : 'POST',
      headers,
      redirect: 'manual',
      ...(form === undefined ? {} : { body: new URLSearchParams(form).toString() }),
    })
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';')
      const eq = pair!.indexOf('=')
      cookies.set(pair!.slice(0, eq), pair!.slice(eq + 1))
    }
    return response
  }
  const field = (html: string, name: string) => {
    const m = new RegExp(`name="${name}" value="([^"]*)"`).exec(html)
    if (m === null) throw new Error(`no ${name} field`)
    return m[1]!
  }
  const base = new URL(authorizationUrl)
  let response = await send(authorizationUrl, undefined, 'none')
  if (response.status === 302) return new URL(response.headers.get('location')!)
  let html = await response.text()
  if (response.status !== 200) throw new Error(`authorize: ${response.status} ${html.slice(0, 200)}`)
  if (html.includes('name="password"')) {
    const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)![1]!, base).href
    response = await send(action, {
      transaction: field(html, 'transaction'),
      csrf: field(html, 'csrf'),
      ...credentials,
    })
    html = await response.text()
    if (response.status !== 200) throw new Error(`login: ${response.status}`)
  }
  const action = new URL(/<form method="post" action="([^"]+)"/.exec(html)![1]!, base).href
  response = await send(action, {
    transaction: field(html, 'transaction'),
    csrf: field(html, 'csrf'),
    decision: 'approve',
  })
  if (response.status !== 303) throw new Error(`consent: ${response.status}`)
  return new URL(response.headers.get('location')!)
}
