/**
 * Response bodies read under a byte cap, and the JSON media-type check.
 *
 * @module
 */

import type { IncomingMessage } from 'node:http'
import type { Transform } from 'node:stream'
import { createBrotliDecompress, createUnzip } from 'node:zlib'
import { NetworkPolicyError } from '../errors.js'

/**
 * Whether a `Content-Type` value names JSON: the media type (parameters removed, case-folded) is
 * `application/json` or has the `+json` structured syntax suffix. No substring matching, so
 * `text/html; a=application/json` and `application/jsonp` are not JSON.
 *
 * @see [RFC 8259 §11](https://www.rfc-editor.org/rfc/rfc8259#section-11) `application/json`
 * @see [RFC 6839 §3.1](https://www.rfc-editor.org/rfc/rfc6839#section-3.1) `+json` suffix
 * @see [RFC 9110 §8.3.1](https://www.rfc-editor.org/rfc/rfc9110#section-8.3.1) media type syntax
 */
export function isJsonMediaType(contentType: string | null | undefined): boolean {
  if (contentType == null) return false
  const mediaType = contentType.split(';', 1)[0]!.trim().toLowerCase()
  return /^application\/(?:[a-z0-9!#$&^_.-]+\+)?json$/.test(mediaType)
}

function decoderFor(contentEncoding: string | undefined): Transform | undefined {
  switch (contentEncoding?.trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
    case 'deflate':
      return createUnzip()
    case 'br':
      return createBrotliDecompress()
    default:
      return undefined
  }
}

/** Whether the body is decoded by {@link readCappedBody} (and its encoding headers are dropped). */
export function isDecodedEncoding(contentEncoding: string | undefined): boolean {
  return decoderFor(contentEncoding) !== undefined
}

function tooLarge(maxBytes: number, what: string): NetworkPolicyError {
  return new NetworkPolicyError('ERR_BODY_TOO_LARGE', 'the response body is larger than allowed', {
    detail: `${what} exceeds ${maxBytes} bytes`,
  })
}

/**
 * Reads the whole body, stopping (and destroying the socket) as soon as either the bytes on the
 * wire or the decoded bytes pass `maxBytes`, so a slow or endless body costs at most `maxBytes`
 * of memory. A declared `Content-Length` above the cap fails before reading.
 */
export function readCappedBody(
  res: IncomingMessage,
  maxBytes: number,
  signal: AbortSignal,
): Promise<Uint8Array<ArrayBuffer>> {
  const declared = res.headers['content-length']
  if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) > maxBytes) {
    res.destroy()
    return Promise.reject(tooLarge(maxBytes, `declared Content-Length ${declared}`))
  }
  const decoder = decoderFor(res.headers['content-encoding'])
  const out = decoder ?? res
  return new Promise<Uint8Array<ArrayBuffer>>((resolve, reject) => {
    const chunks: Buffer[] = []
    let raw = 0
    let decoded = 0
    let settled = false
    const finish = (error: unknown, body?: Uint8Array<ArrayBuffer>) => {
      if (settled) return
      settled = true
      signal.removeEventListener('abort', onAbort)
      if (error !== undefined) {
        res.destroy()
        decoder?.destroy()
        reject(error)
      } else {
        resolve(body!)
      }
    }
    const onAbort = () => finish(signal.reason)
    if (signal.aborted) return onAbort()
    signal.addEventListener('abort', onAbort, { once: true })

    res.on('data', (chunk: Buffer) => {
      raw += chunk.length
      if (raw > maxBytes) finish(tooLarge(maxBytes, 'body'))
    })
    res.on('error', (error) =>
      finish(
        new NetworkPolicyError('ERR_CONNECTION', 'the connection failed while reading the body', {
          cause: error,
        }),
      ),
    )
    res.on('close', () => {
      if (!res.complete) {
        finish(new NetworkPolicyError('ERR_CONNECTION', 'the connection closed before the body was complete'))
      }
    })
    if (decoder !== undefined) {
      decoder.on('data', (chunk: Buffer) => {
        decoded += chunk.length
        if (decoded > maxBytes) finish(tooLarge(maxBytes, 'decoded body'))
        else chunks.push(chunk)
      })
      decoder.on('error', (error) =>
        finish(
          new NetworkPolicyError('ERR_INVALID_RESPONSE', 'the body could not be decoded', { cause: error }),
        ),
      )
      res.pipe(decoder)
    } else {
      res.on('data', (chunk: Buffer) => {
        if (!settled) chunks.push(chunk)
      })
    }
    out.on('end', () => finish(undefined, new Uint8Array(Buffer.concat(chunks))))
  })
}
