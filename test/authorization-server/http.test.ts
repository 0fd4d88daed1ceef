import { describe, expect, it } from 'vitest'
import { readBodyText } from '../../src/authorization-server/http.js'
import { OAuthError } from '../../src/protocol/errors.js'

const post = (body: BodyInit, headers: Record<string, string> = {}) =>
  new Request('http://127.0.0.1/token', { method: 'POST', body, headers })

async function refusal(promise: Promise<unknown>): Promise<OAuthError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(OAuthError)
  expect((error as OAuthError).code).toBe('invalid_request')
  return error as OAuthError
}

describe('readBodyText', () => {
  it('reads a body within the limit, streamed or with a declared length', async () => {
    expect(await readBodyText(post('grant_type=x'), 12)).toBe('grant_type=x')
    expect(await readBodyText(post('a=1', { 'content-length': '3' }), 3)).toBe('a=1')
    expect(await readBodyText(new Request('http://127.0.0.1/'), 0)).toBe('')
  })

  it('refuses a streamed body past the limit without reading it all', async () => {
    let pulled = 0
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        controller.enqueue(new Uint8Array(1024))
      },
    })
    const request = new Request('http://127.0.0.1/token', {
      method: 'POST',
      body: endless,
      duplex: 'half',
    } as RequestInit)
    await refusal(readBodyText(request, 4096))
    expect(pulled).toBeLessThan(10)
  })

  it('refuses a declared length past the limit before reading', async () => {
    const request = post('a=1', { 'content-length': '70000' })
    await refusal(readBodyText(request, 65536))
    expect(request.bodyUsed).toBe(false)
  })
})
