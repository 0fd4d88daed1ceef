/**
 * The frame every page shares: document head, brand, one `main` card and a footer.
 *
 * @module
 */
import { html } from 'hono/html'
import type { Child } from 'hono/jsx'
import { STYLESHEET_PATH, stylesheetHref } from './stylesheet.js'

/** Props of {@link Layout}. */
export interface LayoutProps {
  /** The document title (plain text; escaped). */
  title: string
  /** Adds the wider card used by the consent page. */
  wide?: boolean
  /** Where the stylesheet is served when the server is mounted under a path prefix. */
  stylesheetPath?: string
  children?: Child
}

/*
 * The document head and the inline icons are written with hono's `html` template (it escapes every
 * interpolated value, as JSX does) rather than as JSX: hono/jsx renders `<head>` and `<svg>` inside
 * a context provider, and a provider rendered outside a request context starts an
 * `AsyncLocalStorage`, which on Node 20 slows every later promise of the process. Same markup.
 */

/** The portcullis mark, drawn with presentation attributes (no inline style: CSP). */
export function Mark() {
  return html`<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"><path d="M4 21V8a8 8 0 0 1 16 0v13"></path><path d="M8 21V7M12 21V4.5M16 21V7M4 12h16M4 17h16"></path></svg>`
}

function Head(props: { title: string; stylesheetHref: string }) {
  // An empty icon: no /favicon.ico request to answer or to fail.
  return html`<head><meta charset="utf-8"/><meta name="viewport" content="width=device-width, initial-scale=1"/><meta name="color-scheme" content="light dark"/><meta name="robots" content="noindex, nofollow"/><title>${props.title}</title><link rel="icon" href="data:,"/><link rel="stylesheet" href="${props.stylesheetHref}"/></head>`
}

/** The page shell. Landmarks: banner, main, contentinfo. */
export function Layout(props: LayoutProps) {
  return (
    <html lang="en" dir="ltr">
      <Head title={props.title} stylesheetHref={stylesheetHref(props.stylesheetPath ?? STYLESHEET_PATH)} />
      <body>
        <header class="brand">
          <Mark />
          <span>Portcullis</span>
        </header>
        <main class={props.wide === true ? 'card card-wide' : 'card'}>{props.children}</main>
        <footer class="site-footer">
          <p>Protected by Portcullis</p>
        </footer>
      </body>
    </html>
  )
}
