import { describe, expect, it } from 'vitest'
import {
  type ConsentPageProps,
  consentPage,
  contentSecurityPolicy,
  errorPage,
  formActionSource,
  formActionSourceFor,
  type LoginPageProps,
  loginPage,
  STYLESHEET_PATH,
  sanitizeFormActionSources,
  stylesheetResponse,
} from '../../src/authorization-server/pages/index.js'

const PAYLOADS = [
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  "'><svg onload=alert(1)>",
  '</title><script>alert(1)</script>',
  '<a href="javascript:alert(1)">x</a>',
  '&lt;script&gt;',
]

function loginProps(overrides: Partial<LoginPageProps> = {}): LoginPageProps {
  return {
    action: '/authorize/login',
    transactionId: 'txn-1',
    csrfToken: 'csrf-1',
    clientName: 'Acme Notes',
    ...overrides,
  }
}

function consentProps(overrides: Partial<ConsentPageProps> = {}): ConsentPageProps {
  return {
    action: '/authorize/consent',
    transactionId: 'txn-1',
    csrfToken: 'csrf-1',
    client: { id: 'https://app.acme.example/client.json', name: 'Acme Notes', cimdHost: 'app.acme.example' },
    redirectUri: 'https://app.acme.example/callback',
    redirectHost: 'app.acme.example',
    localhostOnly: false,
    resource: { uri: 'https://mcp.example.com/mcp', name: 'Example MCP server' },
    scopes: [
      { name: 'notes:read', description: 'Read your notes' },
      { name: 'notes:write', description: 'Create and edit notes' },
    ],
    user: { subject: 'user-123', name: 'Alice' },
    allowRemember: true,
    formActionSources: ['https://app.acme.example'],
    ...overrides,
  }
}

// Every tag our pages emit. Escaped text holds no `<`, so any other tag means a payload got through.
const OWN_TAGS = new Set([
  'html',
  'head',
  'meta',
  'title',
  'link',
  'body',
  'header',
  'main',
  'footer',
  'svg',
  'path',
  'span',
  'h1',
  'h2',
  'p',
  'div',
  'strong',
  'code',
  'form',
  'input',
  'label',
  'button',
  'section',
  'ul',
  'li',
])

function expectNoRawPayload(html: string): void {
  const tags = html.slice('<!doctype html>'.length).match(/<[^>]*>/g) ?? []
  for (const tag of tags) {
    const name = /^<\/?([a-z0-9]+)/i.exec(tag)?.[1]?.toLowerCase()
    expect(OWN_TAGS.has(name ?? ''), tag).toBe(true)
    // Attributes are name="value" with nothing unescaped inside the quotes.
    const attributes = tag.replace(/^<\/?[a-z0-9]+/i, '').replace(/\/?>$/, '')
    expect(attributes, tag).toMatch(/^(?:\s[a-z-]+="[^"<>]*")*$/i)
    for (const [, attribute] of attributes.matchAll(/\s([a-z-]+)="/gi))
      expect(attribute, tag).not.toMatch(/^on/i)
  }
  expect(html).not.toMatch(/<script/i)
}

// The payload as it must appear: shown as text, not dropped.
function escaped(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;')
}

const EXPECTED_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
  'cross-origin-opener-policy': 'same-origin',
}

function expectSecurityHeaders(response: Response, formAction = "'self'"): void {
  for (const [name, value] of Object.entries(EXPECTED_HEADERS)) expect(response.headers.get(name)).toBe(value)
  const csp = response.headers.get('content-security-policy')
  expect(csp).toBe(
    `default-src 'none'; style-src 'self'; img-src 'self' data:; form-action ${formAction}; frame-ancestors 'none'; base-uri 'none'`,
  )
  expect(csp).not.toContain('unsafe-inline')
  expect(csp).not.toContain('unsafe-eval')
}

describe('login page', () => {
  it('renders the form fields the endpoint reads, with labels bound to inputs', async () => {
    const response = loginPage(loginProps())
    expect(response.status).toBe(200)
    const html = await response.text()
    expect(html.startsWith('<!doctype html><html lang="en"')).toBe(true)
    expect(html).toContain('<form method="post" action="/authorize/login">')
    expect(html).toContain('<input type="hidden" name="transaction" value="txn-1"/>')
    expect(html).toContain('<input type="hidden" name="csrf" value="csrf-1"/>')
    expect(html).toMatch(
      /<label for="username">Username<\/label><input type="text" id="username" name="username" autocomplete="username"/,
    )
    expect(html).toMatch(
      /<label for="password">Password<\/label><input type="password" id="password" name="password" autocomplete="current-password"/,
    )
    expect(html).toContain('<main')
    expect(html).toContain('<h1>Sign in</h1>')
    expect(html).toContain(`href="${STYLESHEET_PATH}?v=`)
  })

  it('carries every security header, exactly', () => {
    expectSecurityHeaders(loginPage(loginProps()))
  })

  it('uses the status it is given and shows the error as an alert', async () => {
    const response = loginPage(
      loginProps({ status: 401, error: 'Wrong username or password.', username: 'alice' }),
    )
    expect(response.status).toBe(401)
    const html = await response.text()
    expect(html).toContain('role="alert"')
    expect(html).toContain('Wrong username or password.')
    expect(html).toContain('value="alice"')
    // Focus goes to the password once the username is known.
    expect(html).toMatch(/id="password"[^>]*autofocus=""/)
    expect(html).not.toMatch(/id="username"[^>]*autofocus=""/)
  })

  it.each(PAYLOADS)('escapes %s in the client name, username, error and hidden fields', async (payload) => {
    const html = await loginPage(
      loginProps({
        clientName: payload,
        username: payload,
        error: payload,
        transactionId: payload,
        csrfToken: payload,
      }),
    ).text()
    expectNoRawPayload(html)
    expect(html).toContain(escaped(payload))
  })

  it('contains no inline script, inline style or event handler', async () => {
    const html = await loginPage(loginProps({ error: 'x' })).text()
    expect(html).not.toMatch(/<script/i)
    expect(html).not.toMatch(/<style/i)
    expect(html).not.toMatch(/\sstyle=/i)
    expect(html).not.toMatch(/\son[a-z]+=/i)
  })
})

describe('consent page', () => {
  it('shows the client, the verified domain, the redirect host, the resource and every scope', async () => {
    const html = await consentPage(consentProps()).text()
    expect(html).toContain('<span class="client-name">Acme Notes</span>')
    expect(html).toContain('Verified domain: <span class="cimd-host">app.acme.example</span>')
    expect(html).toContain('<p class="destination">app.acme.example</p>')
    expect(html).toContain('<code>https://app.acme.example/callback</code>')
    expect(html).toContain('Example MCP server')
    expect(html).toContain('https://mcp.example.com/mcp')
    expect(html).toContain('<span>Read your notes</span><code>notes:read</code>')
    expect(html).toContain('<span>Create and edit notes</span><code>notes:write</code>')
    expect(html).toContain('Signed in as <strong>Alice</strong>')
    expect(html).not.toContain('on your own device')
  })

  it('posts transaction, csrf, decision (deny first, then approve) and remember', async () => {
    const html = await consentPage(consentProps()).text()
    expect(html).toContain('<form method="post" action="/authorize/consent">')
    expect(html).toContain('name="transaction" value="txn-1"')
    expect(html).toContain('name="csrf" value="csrf-1"')
    expect(html).toContain('<input type="checkbox" id="remember" name="remember" value="on"/>')
    const deny = html.indexOf('name="decision" value="deny"')
    const approve = html.indexOf('name="decision" value="approve"')
    expect(deny).toBeGreaterThan(0)
    expect(approve).toBeGreaterThan(deny)
  })

  it('omits the remember box when remembering is not allowed, and the badge without a CIMD host', async () => {
    const html = await consentPage(
      consentProps({ allowRemember: false, client: { id: 'c-1', name: 'Registered app' } }),
    ).text()
    expect(html).not.toContain('name="remember"')
    expect(html).not.toContain('Verified domain')
  })

  it('warns when the redirect goes to this device (A-15)', async () => {
    const html = await consentPage(
      consentProps({
        redirectUri: 'http://127.0.0.1:53682/callback',
        redirectHost: '127.0.0.1:53682',
        localhostOnly: true,
        formActionSources: ['http://127.0.0.1:53682'],
      }),
    ).text()
    expect(html).toContain('<p class="destination">127.0.0.1:53682</p>')
    expect(html).toContain('This address is on your own device.')
    expect(html).toContain('Any program running on this computer could receive the answer.')
  })

  it('names the upstream identity provider for the proxy', async () => {
    const html = await consentPage(consentProps({ upstreamName: 'GitHub' })).text()
    expect(html).toContain('you will sign in with <strong>GitHub</strong> next')
  })

  it('falls back to the scope name and resource URI when no description or name is given', async () => {
    const html = await consentPage(
      consentProps({ scopes: [{ name: 'tools:call' }], resource: { uri: 'https://mcp.example.com/mcp' } }),
    ).text()
    expect(html).toContain('<span>tools:call</span><code>tools:call</code>')
    expect(html).toContain('Access <strong>https://mcp.example.com/mcp</strong>')
  })

  it('carries every security header, with the sanitized redirect source in form-action', () => {
    expectSecurityHeaders(consentPage(consentProps()), "'self' https://app.acme.example")
  })

  it.each(PAYLOADS)('escapes %s in every field the client or configuration controls', async (payload) => {
    const html = await consentPage(
      consentProps({
        client: { id: payload, name: payload, cimdHost: payload },
        redirectUri: payload,
        redirectHost: payload,
        resource: { uri: payload, name: payload },
        scopes: [{ name: payload, description: payload }, { name: payload }],
        user: { subject: payload, name: payload },
        upstreamName: payload,
        transactionId: payload,
        csrfToken: payload,
        localhostOnly: true,
      }),
    ).text()
    expectNoRawPayload(html)
    expect(html).toContain(escaped(payload))
  })

  it('refuses a form-action source that tries to inject a directive', () => {
    const response = consentPage(
      consentProps({
        formActionSources: [
          'https://a.example; script-src *',
          "https://b.example 'unsafe-inline'",
          'https://c.example,script-src',
          "'unsafe-inline'",
          '*',
          'https:',
          'javascript:',
          'data:',
          'http://evil.example',
          'https://d.example/path',
          'https://app.acme.example',
        ],
      }),
    )
    const csp = response.headers.get('content-security-policy')!
    expect(csp).toContain("form-action 'self' https://app.acme.example;")
    expect(csp.split(';').map((d) => d.trim().split(' ')[0])).toEqual([
      'default-src',
      'style-src',
      'img-src',
      'form-action',
      'frame-ancestors',
      'base-uri',
    ])
    expect(csp).not.toContain('script-src')
    expect(csp).not.toContain('unsafe-inline')
    expect(csp).not.toContain('evil')
  })
})

describe('error page', () => {
  it('renders title and message with the status and headers', async () => {
    const response = errorPage({
      status: 400,
      title: 'Unknown application',
      message: 'The client is not registered.',
    })
    expect(response.status).toBe(400)
    expectSecurityHeaders(response)
    const html = await response.text()
    expect(html).toContain('<h1>Unknown application</h1>')
    expect(html).toContain('The client is not registered.')
  })

  it.each(PAYLOADS)('escapes %s', async (payload) => {
    expectNoRawPayload(await errorPage({ status: 400, title: payload, message: payload }).text())
  })
})

describe('form-action sources', () => {
  it.each([
    ['https://app.example', 'https://app.example'],
    ['https://App.Example:8443', 'https://app.example:8443'],
    ['http://127.0.0.1:53682', 'http://127.0.0.1:53682'],
    ['http://localhost:3000', 'http://localhost:3000'],
    ['com.example.app:', 'com.example.app:'],
    ['cursor:', 'cursor:'],
  ])('accepts %s', (input, expected) => {
    expect(formActionSource(input)).toBe(expected)
  })

  it.each([
    'https://a.example; script-src *',
    'https://a.example script-src',
    'https://a.example/',
    'https://a.example/cb',
    'https://user@a.example',
    'https://*.example',
    'https://a.example:0',
    'https://a.example:70000',
    'https://[::1]:8080',
    'http://a.example',
    'http://127.0.0.1.evil.example',
    'https:',
    'http:',
    'javascript:',
    'data:',
    'blob:',
    "'self'",
    "'unsafe-inline'",
    '*',
    '',
    'com.example.app:/cb',
    'https://a.example\n',
  ])('refuses %j', (input) => {
    expect(formActionSource(input)).toBeUndefined()
  })

  it('deduplicates and keeps order', () => {
    expect(
      sanitizeFormActionSources(['https://b.example', 'bad value', 'https://a.example', 'https://B.example']),
    ).toEqual(['https://b.example', 'https://a.example'])
  })

  it('derives the source from a redirect URI', () => {
    expect(formActionSourceFor('https://app.example/oauth/callback?x=1')).toBe('https://app.example')
    expect(formActionSourceFor('https://app.example:8443/cb')).toBe('https://app.example:8443')
    expect(formActionSourceFor('http://127.0.0.1:53682/callback')).toBe('http://127.0.0.1:53682')
    expect(formActionSourceFor('com.example.app:/oauth2redirect')).toBe('com.example.app:')
    expect(formActionSourceFor('http://evil.example/cb')).toBeUndefined()
    expect(formActionSourceFor('http://[::1]:8080/cb')).toBeUndefined()
    expect(formActionSourceFor('javascript:alert(1)')).toBeUndefined()
    expect(formActionSourceFor('not a url')).toBeUndefined()
  })

  it('builds the policy with self first', () => {
    expect(contentSecurityPolicy(['cursor:'])).toContain("form-action 'self' cursor:;")
  })
})

describe('stylesheet', () => {
  it('is served as text/css with a long cache and an ETag', async () => {
    const response = stylesheetResponse()
    expect(response.status).toBe(200)
    expect(response.headers.get('content-type')).toBe('text/css; charset=utf-8')
    expect(response.headers.get('cache-control')).toBe('public, max-age=86400')
    expect(response.headers.get('x-content-type-options')).toBe('nosniff')
    const css = await response.text()
    expect(css).toContain('prefers-color-scheme: dark')
    expect(css).toContain(':focus-visible')
    expect(css).not.toMatch(/url\(|@import/)
  })

  it('answers 304 to a matching If-None-Match', () => {
    const etag = stylesheetResponse().headers.get('etag')!
    const response = stylesheetResponse(
      new Request('http://127.0.0.1/', { headers: { 'if-none-match': etag } }),
    )
    expect(response.status).toBe(304)
    expect(
      stylesheetResponse(new Request('http://127.0.0.1/', { headers: { 'if-none-match': '"x"' } })).status,
    ).toBe(200)
  })

  it('is linked with its content fingerprint', async () => {
    const etag = stylesheetResponse().headers.get('etag')!.replaceAll('"', '')
    expect(await loginPage(loginProps()).text()).toContain(`href="${STYLESHEET_PATH}?v=${etag}"`)
  })
})

describe('the escaping check itself', () => {
  it('fails on raw markup, so the tests above can fail', () => {
    expect(() => expectNoRawPayload('<!doctype html><p><img src=x onerror=alert(1)></p>')).toThrow()
    expect(() => expectNoRawPayload('<!doctype html><p title="x" onclick="y">z</p>')).toThrow()
    expect(() => expectNoRawPayload('<!doctype html><input value=""><b>x</b>">')).toThrow()
  })
})
