/**
 * Reading a request body into memory with a size cap, for guards that must see the body before
 * the handler (the scope policy reads the JSON-RPC method).
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'

/**
 * Reads the whole body of `req`, or resolves `undefined` as soon as it exceeds `maxBytes` (the
 * caller answers `413`); nothing past the cap is kept.
 */
export async function readBodyUpTo(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > maxBytes) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}
