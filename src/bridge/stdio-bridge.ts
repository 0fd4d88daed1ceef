/**
 * The stdio bridge: a stdio MCP server that forwards every JSON-RPC message, unchanged, to a
 * remote Streamable HTTP MCP server, and every message of the remote back. Requests, responses,
 * notifications and the server's own requests pass in both directions with their ids as they
 * are; the `fetch` it is given (the MCP authorization client's) does the authorization.
 *
 * @see [MCP Transports: stdio](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio)
 * @see [MCP Transports: Streamable HTTP](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#streamable-http)
 * @module
 */

import type { Readable, Writable } from 'node:stream'
import {
  StreamableHTTPClientTransport,
  StreamableHTTPError,
  type StreamableHTTPReconnectionOptions,
} from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js'
import { ErrorCode, type JSONRPCMessage, type JSONRPCRequest } from '@modelcontextprotocol/sdk/types.js'

/** Options of {@link createStdioBridge}. */
export interface StdioBridgeOptions {
  /** The remote MCP endpoint (Streamable HTTP). */
  url: string | URL
  /** The `fetch` that reaches it and authorizes the requests. Default `globalThis.fetch`. */
  fetch?: typeof fetch
  /** Where the host's messages arrive. Default `process.stdin`. */
  stdin?: Readable
  /** Where the host reads messages: nothing else is ever written there. Default `process.stdout`. */
  stdout?: Writable
  /** Diagnostics, one line each. Default: stderr. Never receives a token. */
  log?: (message: string) => void
  /** How the remote's SSE streams are resumed after a disconnect. Default: 5 tries, 1 s to 30 s apart. */
  reconnection?: StreamableHTTPReconnectionOptions
  /** How long closing waits for the remote to end the session (HTTP `DELETE`). Default 2 s. */
  terminateTimeoutMs?: number
  /** How long a new session's `initialize` may take after the remote lost the old one. Default 30 s. */
  reinitializeTimeoutMs?: number
}

/** A bridge between the host on stdio and the remote MCP server. */
export interface StdioBridge {
  /** Starts reading the host's messages. */
  start(): Promise<void>
  /** Ends the remote session (best effort), then closes both sides. Idempotent. */
  close(): Promise<void>
  /** Resolves once both sides are closed: after {@link StdioBridge.close}, stdin's end, or stdout's failure. */
  readonly closed: Promise<void>
}

type Id = string | number

const DEFAULT_RECONNECTION: StreamableHTTPReconnectionOptions = {
  initialReconnectionDelay: 1000,
  maxReconnectionDelay: 30_000,
  reconnectionDelayGrowFactor: 1.5,
  maxRetries: 5,
}

function isRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && 'id' in message && message.id !== undefined
}

function isResponse(message: JSONRPCMessage): message is JSONRPCMessage & { id: Id } {
  return ('result' in message || 'error' in message) && 'id' in message
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

/**
 * The JSON-RPC error the host receives for a request the bridge could not deliver: the remote's
 * HTTP status (in `data.status`) or the bridge's error code (in `data.code`, e.g. an
 * authorization failure), with the same `id` as the request.
 */
export function remoteFailureResponse(id: Id, error: unknown): JSONRPCMessage {
  const data: Record<string, unknown> = {}
  const status =
    error instanceof StreamableHTTPError && error.code !== undefined && error.code > 0
      ? error.code
      : undefined
  if (status !== undefined) data['status'] = status
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string' && code.startsWith('ERR_')) data['code'] = code
  return {
    jsonrpc: '2.0',
    id,
    error: {
      code: ErrorCode.InternalError,
      message:
        status === undefined
          ? `The bridge could not forward the request to the remote MCP server: ${describe(error)}`
          : `The remote MCP server answered HTTP ${status}: ${describe(error)}`,
      ...(Object.keys(data).length > 0 ? { data } : {}),
    },
  }
}

/**
 * Creates a bridge. Nothing is read or sent before {@link StdioBridge.start}.
 *
 * When the remote forgets the session (`404` to a request that carries `Mcp-Session-Id`), the
 * bridge starts a new one with the host's own `initialize` parameters and sends the message
 * again, once; the host keeps its session with the bridge.
 *
 * @see [MCP Transports: Session Management](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#session-management) 404 means start a new session; DELETE to end one
 */
export function createStdioBridge(options: StdioBridgeOptions): StdioBridge {
  const url = new URL(options.url)
  const stdin = options.stdin ?? process.stdin
  const stdout = options.stdout ?? process.stdout
  const log =
    options.log ?? ((message: string) => void process.stderr.write(`portcullis bridge: ${message}\n`))
  const reconnectionOptions = options.reconnection ?? DEFAULT_RECONNECTION
  const terminateTimeoutMs = options.terminateTimeoutMs ?? 2000
  const reinitializeTimeoutMs = options.reinitializeTimeoutMs ?? 30_000

  const local = new StdioServerTransport(stdin, stdout)
  let remote: StreamableHTTPClientTransport | undefined
  /** The host's `initialize`, replayed when the remote loses the session. */
  let hostInitialize: JSONRPCRequest | undefined
  let hostInitialized = false
  /** Ids of the host's `initialize` requests whose answer sets the protocol version header. */
  const initializeIds = new Set<Id>()
  /** Answers to the bridge's own requests: never forwarded to the host. */
  const internal = new Map<Id, (message: JSONRPCMessage) => void>()
  let internalCount = 0
  /** Lifecycle messages finish before anything sent after them starts. */
  let barrier: Promise<unknown> = Promise.resolve()
  let reinitializing: Promise<void> | undefined
  let closing: Promise<void> | undefined
  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve
  })

  function openRemote(): StreamableHTTPClientTransport {
    const transport = new StreamableHTTPClientTransport(url, {
      reconnectionOptions,
      ...(options.fetch === undefined ? {} : { fetch: options.fetch }),
    })
    transport.onmessage = (message) => void fromRemote(transport, message)
    transport.onerror = (error) => {
      if (closing === undefined && transport === remote) log(`remote: ${describe(error)}`)
    }
    return transport
  }

  async function toHost(message: JSONRPCMessage): Promise<void> {
    try {
      await local.send(message)
    } catch (error) {
      log(`cannot write to the host: ${describe(error)}`)
    }
  }

  async function fromRemote(
    transport: StreamableHTTPClientTransport,
    message: JSONRPCMessage,
  ): Promise<void> {
    if (isResponse(message)) {
      const waiter = internal.get(message.id)
      if (waiter !== undefined) {
        internal.delete(message.id)
        waiter(message)
        return
      }
      if (initializeIds.delete(message.id) && 'result' in message) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion
        // Streamable HTTP: every request after initialization carries MCP-Protocol-Version.
        if (typeof version === 'string') transport.setProtocolVersion(version)
      }
    }
    await toHost(message)
  }

  function fail(message: JSONRPCMessage, error: unknown): void {
    if (isRequest(message)) {
      log(`${message.method} failed: ${describe(error)}`)
      void toHost(remoteFailureResponse(message.id, error))
    } else {
      log(`a message to the remote was lost: ${describe(error)}`)
    }
  }

  /** Asks the current remote `request` with a bridge-owned id and waits for the answer. */
  async function ask(
    transport: StreamableHTTPClientTransport,
    method: string,
    params: JSONRPCRequest['params'],
  ): Promise<JSONRPCMessage> {
    const id = `portcullis-bridge-${++internalCount}`
    let timer: NodeJS.Timeout | undefined
    const answer = new Promise<JSONRPCMessage>((resolve, reject) => {
      internal.set(id, resolve)
      timer = setTimeout(() => {
        internal.delete(id)
        reject(new Error(`no answer to ${method} in time`))
      }, reinitializeTimeoutMs)
    })
    try {
      await transport.send({ jsonrpc: '2.0', id, method, ...(params === undefined ? {} : { params }) })
      return await answer
    } finally {
      clearTimeout(timer)
      internal.delete(id)
    }
  }

  function reinitialize(stale: StreamableHTTPClientTransport, initialize: JSONRPCRequest): Promise<void> {
    reinitializing ??= (async () => {
      log('the remote ended the session; starting a new one')
      const next = openRemote()
      await next.start()
      remote = next
      void stale.close().catch(() => {})
      const answer = await ask(next, 'initialize', initialize.params)
      if ('error' in answer) throw new Error(`the remote refused initialize: ${answer.error.message}`)
      const version = ('result' in answer ? answer.result : {}).protocolVersion
      if (typeof version === 'string') next.setProtocolVersion(version)
      if (hostInitialized) await next.send({ jsonrpc: '2.0', method: 'notifications/initialized' })
    })().finally(() => {
      reinitializing = undefined
    })
    return reinitializing
  }

  async function toRemote(message: JSONRPCMessage, retry: boolean): Promise<void> {
    if (closing !== undefined) return
    if (reinitializing !== undefined) await reinitializing.catch(() => {})
    const transport = remote
    if (transport === undefined) return
    const session = transport.sessionId
    try {
      await transport.send(message)
    } catch (error) {
      if (closing !== undefined) return
      const sessionGone = error instanceof StreamableHTTPError && error.code === 404 && session !== undefined
      if (
        retry &&
        sessionGone &&
        hostInitialize !== undefined &&
        !(isRequest(message) && message.method === 'initialize')
      ) {
        try {
          if (remote === transport) await reinitialize(transport, hostInitialize)
          return await toRemote(message, false)
        } catch (reinitError) {
          fail(message, reinitError)
          return
        }
      }
      fail(message, error)
    }
  }

  function forward(message: JSONRPCMessage): void {
    const lifecycle =
      'method' in message &&
      (message.method === 'initialize' || message.method === 'notifications/initialized')
    if (isRequest(message) && message.method === 'initialize') {
      hostInitialize = message
      initializeIds.add(message.id)
    }
    if (!isRequest(message) && 'method' in message && message.method === 'notifications/initialized') {
      hostInitialized = true
    }
    const after = barrier
    const sent = after.then(() => toRemote(message, true))
    if (lifecycle) barrier = sent.catch(() => {})
  }

  const onEnd = (): void => void close()
  const onStdoutError = (error: Error): void => {
    log(`stdout failed: ${describe(error)}`)
    void close()
  }

  function close(): Promise<void> {
    closing ??= (async () => {
      stdin.off('end', onEnd)
      const transport = remote
      if (transport?.sessionId !== undefined) {
        // Streamable HTTP: a client that no longer needs the session SHOULD end it with DELETE.
        let timer: NodeJS.Timeout | undefined
        await Promise.race([
          transport.terminateSession().catch(() => {}),
          new Promise<void>((resolve) => {
            timer = setTimeout(resolve, terminateTimeoutMs)
          }),
        ])
        clearTimeout(timer)
      }
      await transport?.close().catch(() => {})
      await local.close().catch(() => {})
      stdout.off('error', onStdoutError)
      resolveClosed()
    })()
    return closing
  }

  return {
    async start() {
      const transport = openRemote()
      await transport.start()
      remote = transport
      local.onmessage = forward
      local.onerror = (error) => log(`host: ${describe(error)}`)
      local.onclose = () => void close()
      stdin.once('end', onEnd)
      stdout.on('error', onStdoutError)
      await local.start()
    },
    close,
    closed,
  }
}
