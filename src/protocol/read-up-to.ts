/**
 * Reading a body with a size limit. The peer decides how much it sends (a client's request body,
 * a fetched document), so reading stops at the first chunk past the limit instead of buffering
 * whatever arrives.
 *
 * @module
 */

/**
 * The bytes of `stream`, or `undefined` once it holds more than `maxBytes`: the rest is cancelled,
 * never read. A `null` stream (no body) reads as empty. A stream that errors rejects with its error.
 *
 * The cancel is not awaited: cancelling one branch of a tee (`Request.clone()`) settles only once
 * the other branch is cancelled too, and the answer "too large" does not depend on it.
 */
export async function readUpTo(
  stream: ReadableStream<Uint8Array> | null,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  if (stream === null) return new Uint8Array(0)
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > maxBytes) {
      reader.cancel().catch(() => undefined)
      return undefined
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}
