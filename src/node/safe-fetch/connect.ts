/**
 * Connections pinned to checked addresses, with the connected socket's own address checked
 * again before a byte is written.
 *
 * @module
 */

import { connect as netConnect, type Socket } from 'node:net'
import { type SecureContextOptions, connect as tlsConnect } from 'node:tls'
import { NetworkPolicyError } from '../errors.js'
import { type AddressClassification, classifyAddress } from './address-policy.js'
import { assertAddressAllowed, type CheckedTarget } from './host-policy.js'

/** Where a connector is asked to connect: always an IP address that passed the policy. */
export interface ConnectTarget {
  host: string
  port: number
  family: 4 | 6
}

/**
 * Opens a TCP connection. Replaceable so that tests can observe (or refuse) every connection
 * attempt; whatever socket it returns is checked again once connected.
 */
export type Connector = (target: ConnectTarget) => Socket

/** `net.connect` to the given IP address (no name resolution happens here). */
export const systemConnector: Connector = ({ host, port, family }) => netConnect({ host, port, family })

/** What a pinned connection needs besides the target. */
export interface ConnectContext {
  connect: Connector
  allowLoopback: boolean
  ca: SecureContextOptions['ca'] | undefined
  signal: AbortSignal
}

function settle(socket: Socket, event: 'connect' | 'secureConnect', signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const cleanup = () => {
      socket.off(event, onDone)
      socket.off('error', onError)
      signal.removeEventListener('abort', onAbort)
    }
    const onDone = () => {
      cleanup()
      resolve()
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    const onAbort = () => {
      cleanup()
      socket.destroy()
      reject(signal.reason)
    }
    if (signal.aborted) return onAbort()
    socket.once(event, onDone)
    socket.once('error', onError)
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : 'connection failed'
}

/**
 * Connects to the first reachable address of `addresses` (all already checked), then checks the
 * address the socket is actually connected to: whatever answered a lookup, the peer must itself be
 * allowed (the DNS-rebinding defense). For `https:` the TLS handshake follows on that socket with
 * SNI and certificate checks against the URL's host name, not the pinned address.
 *
 * @see [RFC 6066 §3](https://www.rfc-editor.org/rfc/rfc6066#section-3) server name indication (never an IP literal)
 * @see [RFC 9110 §4.3.4](https://www.rfc-editor.org/rfc/rfc9110#section-4.3.4) https server identity
 */
export async function connectPinned(
  target: CheckedTarget,
  addresses: readonly AddressClassification[],
  ctx: ConnectContext,
): Promise<Socket> {
  let lastError: unknown
  for (const address of addresses) {
    const socket = ctx.connect({ host: address.address, port: target.port, family: address.family })
    try {
      if (socket.connecting || socket.remoteAddress === undefined) await settle(socket, 'connect', ctx.signal)
    } catch (error) {
      socket.destroy()
      if (ctx.signal.aborted) throw ctx.signal.reason
      lastError = error
      continue
    }
    const remote = socket.remoteAddress
    const connected = remote === undefined ? undefined : classifyAddress(remote)
    try {
      if (connected === undefined) {
        throw new NetworkPolicyError('ERR_ADDRESS_NOT_ALLOWED', 'the connected address is unknown', {
          range: 'unknown',
          detail: `connection to ${target.url.host}`,
        })
      }
      assertAddressAllowed(connected, target.url, ctx.allowLoopback, 'connected')
    } catch (error) {
      socket.destroy()
      throw error
    }
    if (target.url.protocol === 'http:') return socket
    const isLiteral = target.literal !== undefined
    const secure = tlsConnect({
      socket,
      host: target.host,
      ...(isLiteral ? {} : { servername: target.host }),
      ALPNProtocols: ['http/1.1'],
      ...(ctx.ca === undefined ? {} : { ca: ctx.ca }),
    })
    try {
      await settle(secure, 'secureConnect', ctx.signal)
    } catch (error) {
      secure.destroy()
      if (ctx.signal.aborted) throw ctx.signal.reason
      throw new NetworkPolicyError('ERR_CONNECTION', 'the TLS handshake failed', {
        detail: `TLS to ${target.url.host}: ${errorCode(error)}`,
        cause: error,
      })
    }
    return secure
  }
  throw new NetworkPolicyError('ERR_CONNECTION', 'the connection failed', {
    detail: `connection to ${target.url.host}: ${errorCode(lastError)}`,
    cause: lastError,
  })
}
