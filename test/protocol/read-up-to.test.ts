import { describe, expect, it } from 'vitest'
import { readUpTo } from '../../src/protocol/read-up-to.js'

const encoder = new TextEncoder()

/** A pull stream of `chunks`, recording how many were pulled and whether it was cancelled. */
function source(chunks: string[]) {
  const seen = { pulled: 0, cancelled: false }
  const stream = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const next = chunks[seen.pulled]
        if (next === undefined) {
          controller.close()
          return
        }
        seen.pulled++
        controller.enqueue(encoder.encode(next))
      },
      cancel() {
        seen.cancelled = true
      },
    },
    { highWaterMark: 0 },
  )
  return { stream, seen }
}

const text = (bytes: Uint8Array | undefined) =>
  bytes === undefined ? undefined : new TextDecoder().decode(bytes)

describe('readUpTo', () => {
  it('reads no body as empty', async () => {
    expect(await readUpTo(null, 10)).toEqual(new Uint8Array(0))
    expect(await readUpTo(source([]).stream, 0)).toEqual(new Uint8Array(0))
  })

  it('joins the chunks of a body within the limit, up to exactly the limit', async () => {
    expect(text(await readUpTo(source(['ab', 'cd', 'e']).stream, 5))).toBe('abcde')
    expect(text(await readUpTo(source(['abcde']).stream, 5))).toBe('abcde')
  })

  it('stops at the first chunk past the limit and cancels the rest unread', async () => {
    const { stream, seen } = source(['abc', 'def', 'ghi', 'jkl'])
    expect(await readUpTo(stream, 5)).toBeUndefined()
    await new Promise((resolve) => setTimeout(resolve, 0))
    expect(seen.pulled).toBe(2)
    expect(seen.cancelled).toBe(true)
  })

  it('refuses a single byte over the limit', async () => {
    expect(await readUpTo(source(['abcdef']).stream, 5)).toBeUndefined()
    expect(await readUpTo(source(['a']).stream, 0)).toBeUndefined()
  })

  it('answers for one branch of a tee without waiting for the other, which stays readable', async () => {
    // As Request.clone() does: cancelling one branch settles only when the other is cancelled too.
    const [checked, kept] = source(['abc', 'def', 'ghi', 'jkl']).stream.tee()
    expect(await readUpTo(checked, 4)).toBeUndefined()
    expect(await new Response(kept).text()).toBe('abcdefghijkl')
  })

  it('rejects with the error of a stream that fails', async () => {
    const failing = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode('ab'))
        controller.error(new Error('connection reset'))
      },
    })
    await expect(readUpTo(failing, 100)).rejects.toThrow('connection reset')
  })
})
