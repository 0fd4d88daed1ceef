/**
 * Turns a rendered page into a `Response` with the security headers every page carries.
 *
 * @module
 */
import { isValidElement, type JSXNode } from 'hono/jsx'
import type { JSX } from 'hono/jsx/jsx-runtime'
import { contentSecurityPolicy } from './form-action.js'

/** Options of {@link htmlResponse}. */
export interface HtmlResponseOptions {
  /** Default 200. */
  status?: number
  /** Extra `form-action` sources (sanitized); see `formActionSource`. */
  formActionSources?: readonly string[]
}

/**
 * The headers of every page: no caching (pages carry CSRF tokens and personal data), a strict
 * CSP without inline script or style, no framing, no referrer, no MIME sniffing, an isolated
 * browsing context group.
 *
 * @see [RFC 9700 §4.16](https://www.rfc-editor.org/rfc/rfc9700#section-4.16) clickjacking: `frame-ancestors`, `X-Frame-Options`
 * @see [RFC 9700 §4.2.4](https://www.rfc-editor.org/rfc/rfc9700#section-4.2.4) `Referrer-Policy`
 * @see [CSP Level 3](https://www.w3.org/TR/CSP3/)
 */
export function pageHeaders(formActionSources: readonly string[] = []): Headers {
  return new Headers({
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': contentSecurityPolicy(formActionSources),
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Opener-Policy': 'same-origin',
  })
}

/**
 * Renders a page to a string, synchronously. `toString()` would run the render inside hono/jsx's
 * request context, an `AsyncLocalStorage` where available; on Node 20 the first use of one installs
 * promise hooks that tax every later promise of the process (the token endpoint's included). The
 * pages read no context, so they render without one: the same escaping, the same output.
 */
function renderSync(page: JSX.Element): string {
  if (!isValidElement(page)) {
    const html = page.toString()
    if (typeof html !== 'string') throw new TypeError('pages must render synchronously')
    return html
  }
  const buffer: [string] = ['']
  // The buffer gains `callbacks` only when a child renders asynchronously.
  page.toStringToBuffer(buffer as unknown as Parameters<JSXNode['toStringToBuffer']>[0])
  if (buffer.length !== 1 || 'callbacks' in buffer) throw new TypeError('pages must render synchronously')
  return buffer[0]
}

/**
 * Renders `page` synchronously (the pages use no async components) and wraps it in a `Response`
 * with {@link pageHeaders}. hono/jsx escapes every interpolated string and attribute value.
 */
export function htmlResponse(page: JSX.Element, options: HtmlResponseOptions = {}): Response {
  return new Response(`<!doctype html>${renderSync(page)}`, {
    status: options.status ?? 200,
    headers: pageHeaders(options.formActionSources),
  })
}
