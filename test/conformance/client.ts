/**
 * The MCP client the official conformance suite drives (`npm run conformance`). It uses only the
 * public API (`portcullis/client`, `portcullis/node`) for authorization; the MCP messages
 * themselves are a minimal Streamable HTTP JSON-RPC exchange at the wire version the suite asks
 * for (`MCP_CONFORMANCE_PROTOCOL_VERSION`).
 *
 * Usage (by the suite): `node --import tsx test/conformance/client.ts <mcp-url>`.
 *
 * The browser is simulated: the "opener" fetches the authorization URL and follows the redirect
 * to the loopback receiver, exactly as a browser would deliver the callback.
 */

import { importPKCS8 } from 'jose'
import {
  ClientError,
  createMemoryCredentialStore,
  type GrantOptions,
  type McpAuthClientOptions,
  type PreRegisteredClient,
} from '../../src/client/index.js'
import { createLoopbackRedirectHandler, createNodeMcpAuthClient } from '../../src/node/index.js'

/** The scenario's Client ID Metadata Document URL (the suite checks for exactly this value). */
const CIMD_URL = 'https://conformance-test.local/client-metadata.json'

interface ConformanceContext {
  client_id?: string
  client_secret?: string
  issuer?: string
  private_key_pem?: string
  signing_algorithm?: string
  idp_client_id?: string
  idp_id_token?: string
  idp_token_endpoint?: string
  valid_jwt?: string
}

function log(message: string): void {
  process.stderr.write(`[portcullis] ${message}\n`)
}

async function authOptions(scenario: string, context: ConformanceContext): Promise<McpAuthClientOptions> {
  const options: McpAuthClientOptions = {
    credentialStore: createMemoryCredentialStore(),
    allowInsecureLoopback: true,
    redirect: createLoopbackRedirectHandler({
      timeoutMs: 20_000,
      // A headless browser: load the authorization URL and follow its redirect to the receiver.
      opener: async (url) => {
        const response = await fetch(url)
        await response.arrayBuffer()
      },
    }),
    onEvent: (event) => log(JSON.stringify(event)),
  }
  // The document behind this URL does not exist; it is only offered where the scenario checks it.
  if (scenario === 'auth/basic-cimd') options.clientMetadataUrl = CIMD_URL

  const clientId = context.client_id
  if (clientId === undefined) return options
  const credentials: PreRegisteredClient = { client_id: clientId }
  if (context.client_secret !== undefined) credentials.client_secret = context.client_secret
  if (context.private_key_pem !== undefined) {
    const alg = context.signing_algorithm ?? 'ES256'
    credentials.private_key_jwt = { key: await importPKCS8(context.private_key_pem, alg) }
  }
  // Keyed by the issuer when the scenario names it; otherwise the scenario's only authorization
  // server is meant.
  const issuer = context.issuer
  options.preRegistered = issuer === undefined ? () => credentials : { [issuer]: credentials }

  let grant: GrantOptions | undefined
  if (context.idp_id_token !== undefined && context.idp_token_endpoint !== undefined) {
    const idToken = context.idp_id_token
    grant = {
      type: 'enterprise_managed',
      idp: { token_endpoint: context.idp_token_endpoint, client_id: context.idp_client_id ?? clientId },
      idToken: () => idToken,
    }
  } else if (context.valid_jwt !== undefined) {
    const assertion = context.valid_jwt
    grant = { type: 'jwt_bearer', assertion: () => assertion }
  } else if (scenario.startsWith('auth/client-credentials')) {
    grant = { type: 'client_credentials' }
  }
  if (grant !== undefined) options.grant = grant
  return options
}

/** A minimal Streamable HTTP JSON-RPC client over the authorizing fetch. */
function createMcpSession(url: string, send: typeof fetch, version: string) {
  const stateless = version >= '2026-07-28'
  let nextId = 1
  let negotiated: string | undefined

  async function readMessage(response: Response, id: number | undefined): Promise<unknown> {
    const type = response.headers.get('content-type') ?? ''
    const text = await response.text()
    if (id === undefined) return undefined
    if (type.includes('text/event-stream')) {
      for (const line of text.split(/\r?\n/)) {
        if (!line.startsWith('data:')) continue
        try {
          const message = JSON.parse(line.slice(5).trim()) as { id?: unknown }
          if (message.id === id) return message
        } catch {
          // Not JSON: ignore the event.
        }
      }
      throw new Error('no response in the event stream')
    }
    return JSON.parse(text)
  }

  async function call(
    method: string,
    params?: Record<string, unknown>,
    notification = false,
  ): Promise<unknown> {
    const headers = new Headers({
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
    })
    let body: Record<string, unknown> = { jsonrpc: '2.0', method }
    const id = notification ? undefined : nextId++
    if (id !== undefined) body = { ...body, id }
    if (stateless) {
      headers.set('mcp-protocol-version', version)
      headers.set('mcp-method', method)
      if (typeof params?.['name'] === 'string') headers.set('mcp-name', params['name'])
      body['params'] = {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': version,
          'io.modelcontextprotocol/clientInfo': { name: 'portcullis-conformance', version: '0.1.0' },
          'io.modelcontextprotocol/clientCapabilities': {},
        },
      }
    } else {
      if (negotiated !== undefined) headers.set('mcp-protocol-version', negotiated)
      if (params !== undefined) body['params'] = params
    }
    const response = await send(url, { method: 'POST', headers, body: JSON.stringify(body) })
    if (!response.ok) {
      await response.body?.cancel()
      throw new Error(`${method}: HTTP ${response.status}`)
    }
    const message = (await readMessage(response, id)) as { result?: unknown; error?: { message?: string } }
    if (message?.error !== undefined) throw new Error(`${method}: ${message.error.message ?? 'error'}`)
    return message?.result
  }

  return {
    async connect(): Promise<void> {
      if (stateless) return
      const result = (await call('initialize', {
        protocolVersion: version,
        capabilities: {},
        clientInfo: { name: 'portcullis-conformance', version: '0.1.0' },
      })) as { protocolVersion?: string }
      negotiated = result.protocolVersion ?? version
      await call('notifications/initialized', undefined, true)
    },
    call,
  }
}

async function main(): Promise<void> {
  const serverUrl = process.argv.at(-1)
  if (serverUrl === undefined || !/^https?:\/\//.test(serverUrl))
    throw new Error('usage: client.ts <mcp-url>')
  const scenario = process.env['MCP_CONFORMANCE_SCENARIO'] ?? ''
  const context = JSON.parse(process.env['MCP_CONFORMANCE_CONTEXT'] ?? '{}') as ConformanceContext
  const version = process.env['MCP_CONFORMANCE_PROTOCOL_VERSION'] ?? '2025-11-25'
  log(`scenario ${scenario} at ${version}`)

  const auth = createNodeMcpAuthClient(await authOptions(scenario, context))
  const session = createMcpSession(serverUrl, auth.fetch, version)
  await session.connect()
  await session.call('tools/list', {})
  await session.call('tools/call', { name: 'test-tool', arguments: {} })
  log('done')
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    let current: unknown = error
    for (let depth = 0; current !== undefined && depth < 4; depth++) {
      if (current instanceof ClientError) {
        log(`failed: ${current.code}: ${current.message}${current.detail ? ` (${current.detail})` : ''}`)
      } else log(`caused by: ${current instanceof Error ? current.message : String(current)}`)
      current = current instanceof Error ? current.cause : undefined
    }
    process.exit(1)
  },
)
