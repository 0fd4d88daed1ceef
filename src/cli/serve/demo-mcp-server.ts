/**
 * The demo MCP server of `portcullis serve`: a notes service on the official SDK (v1 `McpServer`,
 * stateless Streamable HTTP), protected by Portcullis's resource server, with tools of three
 * scopes so step-up authorization can be seen:
 *
 * | tool               | scope         |
 * | ------------------ | ------------- |
 * | `whoami`           | `notes:read`  |
 * | `list_notes`       | `notes:read`  |
 * | `add_note`         | `notes:write` |
 * | `delete_all_notes` | `notes:admin` |
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js'
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js'
import { z } from 'zod'
import { jwtVerifier, nodeAuthenticate, protectedResource } from '../../node/resource-server.js'
import { type SdkAuthInfo, toSdkAuthInfo } from '../../resource-server/auth-info.js'
import type { ProtectedResource, ProtectedResourceOptions } from '../../resource-server/protected-resource.js'
import type { ScopePolicy } from '../../resource-server/scope-policy.js'

/** The demo's scopes and what the consent page says about each. */
export const DEMO_SCOPES: Readonly<Record<string, string>> = {
  'notes:read': 'Read your notes',
  'notes:write': 'Add notes',
  'notes:admin': 'Delete all your notes',
}

/**
 * Which scope each tool needs. No hierarchy: a client that holds `notes:read` and calls
 * `add_note` gets `403 insufficient_scope` and steps up.
 */
export const DEMO_SCOPE_POLICY: ScopePolicy = {
  default: ['notes:read'],
  tools: { add_note: ['notes:write'], delete_all_notes: ['notes:admin'] },
}

/**
 * The demo MCP server at `mcpUrl` as a resource protected by the authorization server `as` running
 * in this process: its metadata and keys are read through `as.fetch`, without a network round trip.
 */
export function demoProtectedResource(
  as: { fetch(request: Request): Promise<Response> },
  issuer: string,
  mcpUrl: string,
  options: Omit<ProtectedResourceOptions, 'resource' | 'authorizationServers' | 'verifier' | 'scopes'> = {},
): ProtectedResource {
  return protectedResource({
    ...options,
    resource: mcpUrl,
    authorizationServers: [issuer],
    verifier: jwtVerifier({
      issuer,
      audience: mcpUrl,
      fetch: (input, init) => as.fetch(new Request(input, init)),
    }),
    scopes: DEMO_SCOPE_POLICY,
  })
}

/** Notes per user, in memory (the demo forgets them on restart). */
export interface NotesBook {
  list(subject: string): readonly string[]
  add(subject: string, text: string): number
  clear(subject: string): number
}

const MAX_NOTES = 100

/** An in-memory {@link NotesBook}, at most 100 notes per user. */
export function createNotesBook(): NotesBook {
  const notes = new Map<string, string[]>()
  return {
    list: (subject) => notes.get(subject) ?? [],
    add(subject, text) {
      const list = notes.get(subject) ?? []
      if (list.length >= MAX_NOTES) list.shift()
      list.push(text)
      notes.set(subject, list)
      return list.length
    },
    clear(subject) {
      const count = notes.get(subject)?.length ?? 0
      notes.delete(subject)
      return count
    },
  }
}

function subjectOf(auth: SdkAuthInfo | undefined): string {
  const subject = auth?.extra?.['subject']
  return typeof subject === 'string' ? subject : 'anonymous'
}

const text = (value: string) => ({ content: [{ type: 'text' as const, text: value }] })

/** The MCP server with the demo tools; `authInfo` reaches each tool from the verified token. */
export function buildDemoMcpServer(notes: NotesBook): McpServer {
  const server = new McpServer({ name: 'portcullis-demo-notes', version: '1.0.0' })
  server.registerTool(
    'whoami',
    { description: 'Who the access token belongs to, its client and its scopes (needs notes:read)' },
    async (extra) =>
      text(
        JSON.stringify({
          subject: subjectOf(extra.authInfo),
          client_id: extra.authInfo?.clientId,
          scopes: extra.authInfo?.scopes ?? [],
        }),
      ),
  )
  server.registerTool('list_notes', { description: 'Lists your notes (needs notes:read)' }, async (extra) => {
    const list = notes.list(subjectOf(extra.authInfo))
    return text(list.length === 0 ? 'No notes yet.' : list.map((note, i) => `${i + 1}. ${note}`).join('\n'))
  })
  server.registerTool(
    'add_note',
    {
      description: 'Adds a note (needs notes:write)',
      inputSchema: { text: z.string().min(1).max(1000).describe('The note') },
    },
    async ({ text: note }, extra) => text(`Saved note ${notes.add(subjectOf(extra.authInfo), note)}.`),
  )
  server.registerTool(
    'delete_all_notes',
    { description: 'Deletes all your notes (needs notes:admin)' },
    async (extra) => text(`Deleted ${notes.clear(subjectOf(extra.authInfo))} notes.`),
  )
  return server
}

/** Options of {@link createDemoMcpHandler}. */
export interface DemoMcpHandlerOptions {
  /** The resource server guarding the endpoint. */
  rs: ProtectedResource
  notes: NotesBook
  /** `Host` header values accepted (DNS-rebinding protection). */
  allowedHosts: string[]
  /** `Origin` header values accepted when one is sent (MCP transports: servers MUST validate Origin). */
  allowedOrigins: string[]
}

/**
 * A `node:http` handler for the MCP endpoint and its Protected Resource Metadata: the resource
 * server answers metadata requests and challenges; a verified request reaches a fresh stateless
 * MCP server with `req.auth` set.
 *
 * @see [MCP transports: Security Warning](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#security-warning) Origin validation
 */
export function createDemoMcpHandler(
  options: DemoMcpHandlerOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const origin = new URL(options.rs.resource).origin
  return async (req, res) => {
    const ok = await nodeAuthenticate(options.rs, req, res, { origin })
    if (ok === undefined) return
    let body: unknown
    try {
      body = ok.body.length === 0 ? undefined : JSON.parse(ok.body.toString('utf8'))
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' }, id: null }))
      return
    }
    const server = buildDemoMcpServer(options.notes)
    // No sessionIdGenerator: stateless, one server and transport per request.
    const transport = new StreamableHTTPServerTransport({
      enableJsonResponse: true,
      enableDnsRebindingProtection: true,
      allowedHosts: options.allowedHosts,
      allowedOrigins: options.allowedOrigins,
    })
    res.on('close', () => {
      void transport.close()
      void server.close()
    })
    const authed = req as IncomingMessage & { auth?: SdkAuthInfo }
    authed.auth = toSdkAuthInfo(ok.auth, { resourceMetadataUrl: options.rs.metadataUrl })
    await server.connect(transport)
    await transport.handleRequest(authed, res, body)
  }
}
