/**
 * Running the bridge as a process's whole job: stdout reserved for MCP messages, closed on
 * stdin's end or a termination signal.
 *
 * @see [MCP Transports: stdio](https://modelcontextprotocol.io/specification/2025-11-25/basic/transports#stdio) the server MUST NOT write anything to stdout that is not a valid MCP message
 * @module
 */

import { createStdioBridge, type StdioBridgeOptions } from './stdio-bridge.js'

/** Options of {@link runStdioBridge}. */
export interface RunStdioBridgeOptions extends StdioBridgeOptions {
  /** Signals that close the bridge. Default `SIGINT`, `SIGTERM`, `SIGHUP`. */
  signals?: NodeJS.Signals[]
}

/**
 * Sends everything `console` prints to stderr, so that no library can put a stray line on the
 * MCP channel.
 */
export function reserveStdoutForMessages(): void {
  const toStderr = console.error.bind(console)
  console.log = toStderr
  console.info = toStderr
  console.debug = toStderr
}

/**
 * Starts a bridge on the process's stdin and stdout and resolves when it has closed: after
 * stdin's end (the host went away) or one of `signals`.
 */
export async function runStdioBridge(options: RunStdioBridgeOptions): Promise<void> {
  reserveStdoutForMessages()
  const bridge = createStdioBridge(options)
  const signals = options.signals ?? ['SIGINT', 'SIGTERM', 'SIGHUP']
  const onSignal = (): void => void bridge.close()
  for (const signal of signals) process.on(signal, onSignal)
  try {
    await bridge.start()
    await bridge.closed
  } finally {
    for (const signal of signals) process.off(signal, onSignal)
  }
}
