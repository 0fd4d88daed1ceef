/**
 * A small MCP authorization deployment on 127.0.0.1, assembled from the protocol pieces, that can
 * be broken one way at a time: the subject of the `doctor` tests.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  authorizationServerMetadataUrls,
  protectedResourceMetadataUrl,
} from '../../../src/protocol/well-known.js'
import { bearerChallenge } from '../../../src/protocol/www-authenticate.js'

/** What to break. Every field left out is correct. */
export interface Breakage {
  /** The 401's challenge: absent, without `resource_metadata`, without `scope`, or a raw value. */
  challenge?: 'absent' | 'no-resource-metadata' | 'no-scope' | { raw: string }
  /** The status of an unauthenticated MCP request. Default 401. */
  unauthenticatedStatus?: number
  /** No PRM anywhere. */
  noPrm?: boolean
  /** PRM only at the root well-known URL. */
  prmAtRootOnly?: boolean
  /** The PRM's `resource`, given the correct one. */
  prmResource?: (correct: string) => string
  /** The PRM's `authorization_servers`. */
  authorizationServers?: (issuer: string) => string[]
  /** The PRM's `scopes_supported`. */
  prmScopes?: string[]
  /** The AS metadata's `issuer`, given the correct one. */
  issuer?: (correct: string) => string
  /** `code_challenge_methods_supported`; `null` leaves it out. */
  pkce?: string[] | null
  /** No CORS headers anywhere. */
  noCors?: boolean
  /** No `client_id_metadata_document_supported` and no `registration_endpoint`. */
  noRegistration?: boolean
  /** No `authorization_response_iss_parameter_supported`. */
  noIss?: boolean
  /** The issuer has this path (e.g. `/tenant`); the metadata is served at the root by mistake. */
  issuerPathServedAtRoot?: string
  /** Text put in the PRM's `resource_name` (e.g. terminal escapes). */
  resourceName?: string
}

/** Options of {@link startFakeDeployment}. */
export interface FakeDeploymentOptions {
  /** The origin the documents name, when it is not the listening one (a test's fetch maps it back). */
  publicOrigin?: string
}

export interface FakeDeployment {
  mcpUrl: string
  issuer: string
  /** Every request the server received, as `METHOD path`. */
  requests: string[]
  close(): Promise<void>
}

/** Starts a deployment (MCP endpoint at `/mcp`, its AS on the same origin) with the breakage applied. */
export async function startFakeDeployment(
  breakage: Breakage = {},
  options: FakeDeploymentOptions = {},
): Promise<FakeDeployment & { listeningOrigin: string }> {
  const requests: string[] = []
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`)
    handle(req, res)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  const listeningOrigin = `http://127.0.0.1:${port}`
  const origin = options.publicOrigin ?? listeningOrigin
  const mcpUrl = `${origin}/mcp`
  const issuer =
    breakage.issuerPathServedAtRoot === undefined ? origin : `${origin}${breakage.issuerPathServedAtRoot}`
  const prmUrl = protectedResourceMetadataUrl(mcpUrl)
  const prmPaths = new Set([
    new URL(breakage.prmAtRootOnly ? `${origin}/.well-known/oauth-protected-resource` : prmUrl).pathname,
  ])
  const asPath =
    breakage.issuerPathServedAtRoot === undefined
      ? new URL(authorizationServerMetadataUrls(issuer)[0]!.url).pathname
      : '/.well-known/oauth-authorization-server'

  const cors = (res: ServerResponse) => {
    if (breakage.noCors) return
    res.setHeader('access-control-allow-origin', '*')
    res.setHeader('access-control-allow-methods', 'GET, OPTIONS')
    res.setHeader('access-control-allow-headers', 'mcp-protocol-version')
  }
  const json = (res: ServerResponse, body: unknown) => {
    cors(res)
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const path = new URL(req.url ?? '/', origin).pathname
    if (path === '/mcp') {
      const status = breakage.unauthenticatedStatus ?? 401
      if (status !== 401) {
        res.writeHead(status, { 'content-type': 'application/json' }).end('{}')
        return
      }
      const challenge = breakage.challenge
      if (challenge !== 'absent') {
        const value =
          typeof challenge === 'object'
            ? challenge.raw
            : bearerChallenge({
                ...(challenge === 'no-resource-metadata' ? {} : { resource_metadata: prmUrl }),
                ...(challenge === 'no-scope' ? {} : { scope: 'notes:read' }),
              })
        res.setHeader('www-authenticate', value)
      }
      res.writeHead(401).end()
      return
    }
    if (req.method === 'OPTIONS' && !breakage.noCors) {
      cors(res)
      res.writeHead(204).end()
      return
    }
    if (prmPaths.has(path) && !breakage.noPrm) {
      json(res, {
        resource: breakage.prmResource?.(mcpUrl) ?? mcpUrl,
        authorization_servers: breakage.authorizationServers?.(issuer) ?? [issuer],
        scopes_supported: breakage.prmScopes ?? ['notes:read', 'notes:write'],
        bearer_methods_supported: ['header'],
        ...(breakage.resourceName === undefined ? {} : { resource_name: breakage.resourceName }),
      })
      return
    }
    if (path === asPath) {
      json(res, {
        issuer: breakage.issuer?.(issuer) ?? issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        ...(breakage.noRegistration ? {} : { registration_endpoint: `${issuer}/register` }),
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code', 'refresh_token'],
        token_endpoint_auth_methods_supported: ['none'],
        ...(breakage.pkce === null ? {} : { code_challenge_methods_supported: breakage.pkce ?? ['S256'] }),
        ...(breakage.noRegistration ? {} : { client_id_metadata_document_supported: true }),
        ...(breakage.noIss ? {} : { authorization_response_iss_parameter_supported: true }),
        scopes_supported: ['notes:read', 'notes:write', 'offline_access'],
      })
      return
    }
    cors(res)
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found"}')
  }

  return {
    mcpUrl,
    issuer,
    listeningOrigin,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      }),
  }
}
