/**
 * The one stylesheet of the login, consent and error pages: system fonts, CSS variables for light
 * and dark schemes, a centred card, clear primary and secondary buttons, visible focus rings.
 * Served from {@link STYLESHEET_PATH}; no external assets.
 *
 * @module
 */

/** The path the router serves {@link stylesheetResponse} at. */
export const STYLESHEET_PATH = '/assets/portcullis.css'

/**
 * The colours of the light and the dark scheme, as CSS custom properties: one table, rendered
 * once for each scheme, so every variable has both values.
 */
const COLOURS: Record<string, { light: string; dark: string }> = {
  bg: { light: '#f3f4f6', dark: '#0d1015' },
  surface: { light: '#ffffff', dark: '#161a21' },
  text: { light: '#181c22', dark: '#e7eaef' },
  muted: { light: '#535c68', dark: '#a4adba' },
  border: { light: '#d5dae1', dark: '#2d343f' },
  subtle: { light: '#f4f6f9', dark: '#1d222b' },
  accent: { light: '#1d5bd6', dark: '#6aa5ff' },
  'accent-hover': { light: '#1749ad', dark: '#8ab8ff' },
  'on-accent': { light: '#ffffff', dark: '#0a0f18' },
  focus: { light: '#1d5bd6', dark: '#8ab8ff' },
  'warn-bg': { light: '#fff6db', dark: '#2a2210' },
  'warn-border': { light: '#d29a00', dark: '#a57d12' },
  'warn-text': { light: '#4f3700', dark: '#f5dc94' },
  'error-bg': { light: '#fdeced', dark: '#2c1417' },
  'error-border': { light: '#cf2a36', dark: '#e0525c' },
  'error-text': { light: '#7d0f1a', dark: '#ffb9b4' },
  'ok-bg': { light: '#e6f4ea', dark: '#12291b' },
  'ok-text': { light: '#135c2c', dark: '#94dfaa' },
  shadow: {
    light: '0 1px 2px rgb(16 24 40 / 6%), 0 12px 32px rgb(16 24 40 / 8%)',
    dark: '0 1px 2px rgb(0 0 0 / 40%), 0 12px 32px rgb(0 0 0 / 35%)',
  },
}

function colours(scheme: 'light' | 'dark', indent: string): string {
  return Object.entries(COLOURS)
    .map(([name, value]) => `${indent}--${name}: ${value[scheme]};`)
    .join('\n')
}

const CSS = `:root {
  color-scheme: light dark;
${colours('light', '  ')}
  --radius: 14px;
  --mono: ui-monospace, "SFMono-Regular", "Cascadia Mono", "Segoe UI Mono", Menlo, Consolas, monospace;
}
@media (prefers-color-scheme: dark) {
  :root {
${colours('dark', '    ')}
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body {
  margin: 0;
  min-height: 100vh;
  display: flex;
  flex-direction: column;
  align-items: center;
  justify-content: center;
  padding: 2rem 1rem;
  background: var(--bg);
  color: var(--text);
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
  font-size: 1rem;
  line-height: 1.5;
}
.brand {
  display: flex;
  align-items: center;
  gap: 0.5rem;
  margin-bottom: 1rem;
  color: var(--muted);
  font-size: 0.875rem;
  font-weight: 600;
  letter-spacing: 0.02em;
}
.brand svg { width: 1.25rem; height: 1.25rem; color: var(--accent); }
.card {
  width: 100%;
  max-width: 27rem;
  padding: 2rem;
  background: var(--surface);
  border: 1px solid var(--border);
  border-radius: var(--radius);
  box-shadow: var(--shadow);
}
.card-wide { max-width: 33rem; }
h1 { margin: 0 0 0.25rem; font-size: 1.375rem; line-height: 1.3; font-weight: 650; overflow-wrap: anywhere; }
h2 { margin: 0 0 0.5rem; font-size: 0.8125rem; font-weight: 600; letter-spacing: 0.04em; text-transform: uppercase; color: var(--muted); }
p { margin: 0 0 1rem; }
code { font-family: var(--mono); font-size: 0.875em; overflow-wrap: anywhere; }
.lead { margin-bottom: 1.5rem; color: var(--muted); }
.lead strong { color: var(--text); }
.field { margin-bottom: 1.125rem; }
label { display: block; margin-bottom: 0.375rem; font-weight: 600; font-size: 0.9375rem; }
input[type="text"], input[type="password"] {
  display: block;
  width: 100%;
  padding: 0.625rem 0.75rem;
  font: inherit;
  color: var(--text);
  background: var(--surface);
  border: 1px solid var(--muted);
  border-radius: 8px;
}
input[type="text"]:hover, input[type="password"]:hover { border-color: var(--text); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
input[type="text"]:focus-visible, input[type="password"]:focus-visible { outline-offset: 0; border-color: var(--focus); }
.button {
  display: inline-flex;
  align-items: center;
  justify-content: center;
  min-height: 2.75rem;
  padding: 0.625rem 1.25rem;
  font: inherit;
  font-weight: 600;
  border-radius: 8px;
  border: 1px solid transparent;
  cursor: pointer;
}
.button-primary { background: var(--accent); color: var(--on-accent); }
.button-primary:hover { background: var(--accent-hover); }
.button-secondary { background: var(--surface); color: var(--text); border-color: var(--muted); }
.button-secondary:hover { background: var(--subtle); }
.button-block { width: 100%; }
.actions { display: flex; gap: 0.75rem; justify-content: flex-end; margin-top: 1.5rem; }
.actions .button { flex: 1 1 0; }
.alert, .warning {
  margin: 0 0 1.25rem;
  padding: 0.75rem 0.875rem;
  border: 1px solid;
  border-left-width: 4px;
  border-radius: 8px;
}
.alert { border-color: var(--error-border); background: var(--error-bg); color: var(--error-text); overflow-wrap: anywhere; }
.warning { border-color: var(--warn-border); background: var(--warn-bg); color: var(--warn-text); }
.warning p { margin: 0; }
.warning p + p { margin-top: 0.25rem; }
.client { display: flex; align-items: flex-start; gap: 1rem; margin-bottom: 1.25rem; }
.avatar {
  flex: none;
  display: grid;
  place-items: center;
  width: 3rem;
  height: 3rem;
  border-radius: 12px;
  background: var(--subtle);
  border: 1px solid var(--border);
  color: var(--text);
  font-size: 1.25rem;
  font-weight: 700;
}
.badge {
  display: inline-flex;
  align-items: center;
  gap: 0.375rem;
  margin: 0.375rem 0 0;
  padding: 0.125rem 0.625rem;
  border-radius: 999px;
  font-size: 0.8125rem;
  font-weight: 600;
  overflow-wrap: anywhere;
}
.badge-verified { background: var(--ok-bg); color: var(--ok-text); }
.badge svg { width: 0.875rem; height: 0.875rem; flex: none; }
.panel {
  margin: 0 0 1.25rem;
  padding: 1rem;
  border: 1px solid var(--border);
  border-radius: 10px;
  background: var(--subtle);
}
.destination { margin: 0; font-size: 1.25rem; font-weight: 700; font-family: var(--mono); overflow-wrap: anywhere; }
.destination-uri { margin: 0.25rem 0 0; color: var(--muted); font-size: 0.875rem; }
.section { margin-bottom: 1.25rem; }
.resource { margin: 0 0 0.5rem; }
.resource code { color: var(--muted); }
.scopes { margin: 0; padding: 0; list-style: none; border-top: 1px solid var(--border); }
.scopes li { display: flex; flex-wrap: wrap; justify-content: space-between; gap: 0.25rem 1rem; padding: 0.625rem 0; border-bottom: 1px solid var(--border); }
.scopes code { color: var(--muted); }
.meta { margin: 0 0 1.25rem; color: var(--muted); font-size: 0.9375rem; }
.meta strong { color: var(--text); }
.checkbox { display: flex; align-items: center; gap: 0.625rem; margin: 0; font-weight: 500; }
.checkbox input { width: 1.125rem; height: 1.125rem; margin: 0; accent-color: var(--accent); }
.fineprint { margin: 1.25rem 0 0; color: var(--muted); font-size: 0.8125rem; }
.site-footer { margin-top: 1.25rem; color: var(--muted); font-size: 0.8125rem; }
@media (max-width: 30rem) {
  body { justify-content: flex-start; padding: 1rem 0.75rem; }
  .card { padding: 1.25rem; }
  .client { gap: 0.75rem; }
  .avatar { width: 2.5rem; height: 2.5rem; font-size: 1.125rem; }
}
@media (forced-colors: active) {
  .button, .badge, .panel, .warning, .alert { border: 1px solid CanvasText; }
}
@media (prefers-reduced-motion: reduce) {
  * { transition: none !important; animation: none !important; }
}
`

// FNV-1a, 32 bits: a synchronous content fingerprint for cache busting (not a security hash).
function fingerprint(text: string): string {
  let hash = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16).padStart(8, '0')
}

const VERSION = fingerprint(CSS)
const ETAG = `"${VERSION}"`

/** The href the pages link the stylesheet with: the path plus a content fingerprint. */
export function stylesheetHref(path: string = STYLESHEET_PATH): string {
  return `${path}?v=${VERSION}`
}

/**
 * The stylesheet as a `Response`: `text/css`, cached for a day (the pages link it with a content
 * fingerprint, so a new release is fetched at once). With a `request` carrying the current
 * `If-None-Match`, a `304`.
 *
 * @see [RFC 9111 §5.2.2.1](https://www.rfc-editor.org/rfc/rfc9111#section-5.2.2.1) `max-age`
 */
export function stylesheetResponse(request?: Request): Response {
  const headers = new Headers({
    'Content-Type': 'text/css; charset=utf-8',
    'Cache-Control': 'public, max-age=86400',
    ETag: ETAG,
    'X-Content-Type-Options': 'nosniff',
    'Cross-Origin-Resource-Policy': 'same-origin',
  })
  if (
    request?.headers
      .get('if-none-match')
      ?.split(/\s*,\s*/)
      .includes(ETAG)
  ) {
    return new Response(null, { status: 304, headers })
  }
  return new Response(CSS, { status: 200, headers })
}
