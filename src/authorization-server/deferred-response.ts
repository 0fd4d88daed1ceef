/**
 * JSON answers whose web `Response` is built only when someone needs it. A `Response` with a body
 * costs a body stream and its bookkeeping, several times the work of a token request's JSON; a
 * server adapter that writes status, headers and text itself (the Node listener) never needs it.
 * Every other use (`body`, `json()`, `clone()`, …) builds the real `Response` once and is served
 * by it, and {@link materialized} turns the answer into that `Response` where a runtime must be
 * handed a genuine one.
 *
 * @module
 */

interface Deferred {
  readonly text: string
  readonly status: number
  readonly headers: Headers
  real?: Response
}

const deferred = new WeakMap<Response, Deferred>()

function build(state: Deferred): Response {
  state.real ??= new Response(state.text, { status: state.status, headers: state.headers })
  return state.real
}

/**
 * A `Response` carrying `text` with `status` and `headers`: an instance of `Response` whose
 * status, headers and body-state are answered directly until any other member is used.
 */
export function deferredResponse(text: string, status: number, headers: Headers): Response {
  const state: Deferred = { text, status, headers }
  const response = new Proxy(Object.create(Response.prototype) as Response, {
    get(_target, property) {
      if (state.real === undefined) {
        switch (property) {
          case 'status':
            return status
          case 'headers':
            return headers
          case 'ok':
            return status >= 200 && status <= 299
          case 'statusText':
            return ''
          case 'bodyUsed':
            return false
        }
        // Not a member of a Response (`then`, probed when an async function returns it). Symbols
        // go to the real Response: a runtime may keep its internal state under them.
        if (typeof property === 'string' && !(property in Response.prototype)) return undefined
      }
      const real = build(state)
      const value = Reflect.get(real, property, real) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(real) : value
    },
  })
  deferred.set(response, state)
  return response
}

/** The genuine `Response` behind a {@link deferredResponse} (built now if need be); any other as is. */
export function materialized(response: Response): Response {
  const state = deferred.get(response)
  return state === undefined ? response : build(state)
}

/**
 * The body text of a {@link deferredResponse} while its body is unread, so an adapter can write
 * it as is; `undefined` for any other response.
 */
export function bufferedText(response: Response): string | undefined {
  const state = deferred.get(response)
  if (state === undefined || state.real?.bodyUsed === true) return undefined
  return state.text
}
