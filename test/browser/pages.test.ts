import { mkdir } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createCsrf } from '../../src/authorization-server/csrf.js'
import {
  type ConsentPageProps,
  consentPage,
  errorPage,
  loginPage,
  STYLESHEET_PATH,
  stylesheetResponse,
} from '../../src/authorization-server/pages/index.js'
import { launchChromium } from './launch.js'

const AXE_PATH = fileURLToPath(new URL('../../node_modules/axe-core/axe.min.js', import.meta.url))
const IMAGES = fileURLToPath(new URL('../../docs/images/', import.meta.url))
const TRANSACTION = 'txn-browser-1'

type Server = ReturnType<typeof serve>

function listen(app: Hono): Promise<{ server: Server; origin: string }> {
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info: AddressInfo) => {
      resolve({ server, origin: `http://127.0.0.1:${info.port}` })
    })
  })
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()))
}

interface Posted {
  path: string
  fields: Record<string, string>
  csrfValid: boolean
}

const posted: Posted[] = []
let asOrigin = ''
let otherOrigin = ''
let asServer: Server
let otherServer: Server
let browser: Browser
let callbackHits = 0

const csrf = createCsrf({ secret: 'browser-test-secret-0123456789abcdefghij', secure: false })

function consentProps(redirectUri: string, overrides: Partial<ConsentPageProps> = {}): ConsentPageProps {
  const url = new URL(redirectUri)
  return {
    action: '/consent',
    transactionId: TRANSACTION,
    csrfToken: '',
    client: {
      id: 'https://app.acme.example/oauth/client.json',
      name: 'Acme Notes',
      cimdHost: 'app.acme.example',
    },
    redirectUri,
    redirectHost: url.host,
    localhostOnly: url.hostname === '127.0.0.1',
    resource: { uri: 'https://mcp.example.com/mcp', name: 'Example MCP server' },
    scopes: [
      { name: 'notes:read', description: 'Read your notes and notebooks' },
      { name: 'notes:write', description: 'Create, edit and delete notes' },
    ],
    user: { subject: 'user-1', name: 'Alice Liddell' },
    allowRemember: true,
    formActionSources: [url.origin],
    ...overrides,
  }
}

function withCookie(response: Response, setCookie: string | undefined): Response {
  if (setCookie !== undefined) response.headers.append('Set-Cookie', setCookie)
  return response
}

async function readForm(request: Request): Promise<Record<string, string>> {
  const form = await request.formData()
  const fields: Record<string, string> = {}
  for (const [name, value] of form) if (typeof value === 'string') fields[name] = value
  return fields
}

function authorizationServer(): Hono {
  const app = new Hono()
  app.get(STYLESHEET_PATH, (c) => stylesheetResponse(c.req.raw))
  app.get('/login', async (c) => {
    const { token, setCookie } = await csrf.issue(c.req.raw, TRANSACTION)
    return withCookie(
      loginPage({ action: '/login', transactionId: TRANSACTION, csrfToken: token, clientName: 'Acme Notes' }),
      setCookie,
    )
  })
  app.get('/login-error', async (c) => {
    const { token, setCookie } = await csrf.issue(c.req.raw, TRANSACTION)
    return withCookie(
      loginPage({
        action: '/login',
        transactionId: TRANSACTION,
        csrfToken: token,
        clientName: 'Acme Notes',
        username: 'alice',
        error: 'Wrong username or password.',
        status: 401,
      }),
      setCookie,
    )
  })
  app.post('/login', async (c) => {
    const fields = await readForm(c.req.raw)
    const csrfValid = await csrf.verify(c.req.raw, fields['transaction'] ?? '', fields['csrf'])
    posted.push({ path: '/login', fields, csrfValid })
    if (!csrfValid) return errorPage({ status: 403, title: 'Request refused', message: 'Start again.' })
    return c.redirect('/consent', 303)
  })
  app.get('/consent', async (c) => {
    const { token, setCookie } = await csrf.issue(c.req.raw, TRANSACTION)
    return withCookie(
      consentPage({ ...consentProps(`${otherOrigin}/callback`), csrfToken: token }),
      setCookie,
    )
  })
  // The same page without the redirect's origin in form-action: Chromium must block the redirect.
  app.get('/consent-without-source', async (c) => {
    const { token, setCookie } = await csrf.issue(c.req.raw, TRANSACTION)
    return withCookie(
      consentPage({
        ...consentProps(`${otherOrigin}/callback`, { formActionSources: [] }),
        csrfToken: token,
      }),
      setCookie,
    )
  })
  // Fixed values for the documentation screenshots.
  app.get('/preview/consent', () =>
    consentPage({ ...consentProps('http://127.0.0.1:53682/callback'), csrfToken: 'preview' }),
  )
  // Control for the framing test: the same markup without our headers.
  app.get('/unprotected', async (c) => {
    const html = await consentPage({ ...consentProps(`${otherOrigin}/callback`), csrfToken: 'x' }).text()
    return c.html(html)
  })
  app.post('/consent', async (c) => {
    const fields = await readForm(c.req.raw)
    const csrfValid = await csrf.verify(c.req.raw, fields['transaction'] ?? '', fields['csrf'])
    posted.push({ path: '/consent', fields, csrfValid })
    if (!csrfValid) return errorPage({ status: 403, title: 'Request refused', message: 'Start again.' })
    const target = new URL(`${otherOrigin}/callback`)
    if (fields['decision'] === 'approve') target.searchParams.set('code', 'code-1')
    else target.searchParams.set('error', 'access_denied')
    return c.redirect(target.href, 303)
  })
  return app
}

function otherOriginServer(): Hono {
  const app = new Hono()
  app.get('/callback', (c) => {
    callbackHits++
    return c.html('<!doctype html><title>Callback</title><p>callback reached</p>')
  })
  app.get('/favicon.ico', () => new Response(null, { status: 204 }))
  app.get('/attacker', (c) =>
    c.html(
      `<!doctype html><title>Attacker</title><iframe title="victim" src="${asOrigin}/consent"></iframe>`,
    ),
  )
  app.get('/attacker-control', (c) =>
    c.html(
      `<!doctype html><title>Attacker</title><iframe title="victim" src="${asOrigin}/unprotected"></iframe>`,
    ),
  )
  return app
}

interface Watch {
  errors: string[]
}

// Console errors, page errors and CSP violations (seen by a listener installed before any page
// script; init scripts are not subject to the page's CSP).
async function watched(context: BrowserContext): Promise<{ page: Page; watch: Watch }> {
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) => {
      console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`)
    })
  })
  const page = await context.newPage()
  const watch: Watch = { errors: [] }
  page.on('console', (message) => {
    if (message.type() !== 'error' && message.type() !== 'warning') return
    const text = message.text()
    // A page served with an error status on purpose is logged as a failed load; nothing else is.
    if (text.includes('status of 401') && message.location().url.endsWith('/login-error')) return
    watch.errors.push(`${text} (${message.location().url})`)
  })
  page.on('pageerror', (error) => watch.errors.push(error.message))
  return { page, watch }
}

async function activeElement(page: Page): Promise<{ id: string; value: string; outline: string }> {
  return page.evaluate(() => {
    const element = document.activeElement as HTMLInputElement | HTMLButtonElement | null
    return {
      id: element?.id ?? '',
      value: element?.value ?? '',
      outline: element === null ? 'none' : getComputedStyle(element).outlineStyle,
    }
  })
}

interface AxeViolation {
  id: string
  impact: string | null
  help: string
  nodes: { target: unknown[] }[]
}

async function axeScan(scheme: 'light' | 'dark', path: string): Promise<AxeViolation[]> {
  // bypassCSP only here: the page's CSP would refuse the injected axe script.
  const context = await browser.newContext({
    bypassCSP: true,
    colorScheme: scheme,
    viewport: { width: 900, height: 800 },
  })
  try {
    const page = await context.newPage()
    await page.goto(`${asOrigin}${path}`)
    await page.addScriptTag({ path: AXE_PATH })
    return await page.evaluate(async () => {
      const axe = (
        window as unknown as { axe: { run: (context: Document) => Promise<{ violations: AxeViolation[] }> } }
      ).axe
      const result = await axe.run(document)
      return result.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target })),
      }))
    })
  } finally {
    await context.close()
  }
}

beforeAll(async () => {
  ;({ server: otherServer, origin: otherOrigin } = await listen(otherOriginServer()))
  ;({ server: asServer, origin: asOrigin } = await listen(authorizationServer()))
  browser = await launchChromium()
  await mkdir(IMAGES, { recursive: true })
})

afterAll(async () => {
  await browser?.close()
  if (asServer !== undefined) await close(asServer)
  if (otherServer !== undefined) await close(otherServer)
})

describe('login and consent pages in Chromium', () => {
  for (const scheme of ['light', 'dark'] as const) {
    it(`load without console errors or CSP violations (${scheme})`, async () => {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 900, height: 800 } })
      try {
        const { page, watch } = await watched(context)
        for (const path of ['/login', '/login-error', '/consent']) {
          const response = await page.goto(`${asOrigin}${path}`)
          expect(response?.headers()['content-security-policy']).toContain("frame-ancestors 'none'")
          // The stylesheet applied (blocked CSS would leave the default white/transparent body).
          const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor)
          expect(background).toBe(scheme === 'light' ? 'rgb(243, 244, 246)' : 'rgb(13, 16, 21)')
        }
        expect(watch.errors).toEqual([])
      } finally {
        await context.close()
      }
    })
  }

  it('fit a phone screen without horizontal scrolling', async () => {
    const context = await browser.newContext({ viewport: { width: 360, height: 740 } })
    try {
      const page = await context.newPage()
      for (const path of ['/login', '/consent']) {
        await page.goto(`${asOrigin}${path}`)
        const { scroll, width } = await page.evaluate(() => ({
          scroll: document.documentElement.scrollWidth,
          width: window.innerWidth,
        }))
        expect(scroll).toBeLessThanOrEqual(width)
      }
    } finally {
      await context.close()
    }
  })

  it('can be used with the keyboard only: sign in, tick remember, approve', async () => {
    posted.length = 0
    const context = await browser.newContext({ viewport: { width: 900, height: 800 } })
    try {
      const { page, watch } = await watched(context)
      await page.goto(`${asOrigin}/login`)
      expect((await activeElement(page)).id).toBe('username')
      await page.keyboard.type('alice')
      await page.keyboard.press('Tab')
      const password = await activeElement(page)
      expect(password.id).toBe('password')
      expect(password.outline).not.toBe('none')
      await page.keyboard.type('wonderland')
      await Promise.all([page.waitForURL(`${asOrigin}/consent`), page.keyboard.press('Enter')])

      expect(posted[0]).toMatchObject({
        path: '/login',
        csrfValid: true,
        fields: { transaction: TRANSACTION, username: 'alice', password: 'wonderland' },
      })

      // Tab order on the consent page: remember, Deny, Approve; each with a visible focus ring.
      const order: string[] = []
      for (let i = 0; i < 3; i++) {
        await page.keyboard.press('Tab')
        const focused = await activeElement(page)
        expect(focused.outline).not.toBe('none')
        order.push(focused.id || focused.value)
        if (i === 0) await page.keyboard.press('Space')
      }
      expect(order).toEqual(['remember', 'deny', 'approve'])
      await Promise.all([
        page.waitForURL(`${otherOrigin}/callback?code=code-1`),
        page.keyboard.press('Enter'),
      ])
      expect(await page.textContent('p')).toBe('callback reached')
      expect(posted[1]).toMatchObject({
        path: '/consent',
        csrfValid: true,
        fields: { transaction: TRANSACTION, decision: 'approve', remember: 'on' },
      })
      expect(watch.errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('sends the browser back with access_denied on Deny', async () => {
    posted.length = 0
    const context = await browser.newContext()
    try {
      const { page, watch } = await watched(context)
      await page.goto(`${asOrigin}/consent`)
      await Promise.all([
        page.waitForURL(`${otherOrigin}/callback?error=access_denied`),
        page.click('button[value="deny"]'),
      ])
      expect(posted).toHaveLength(1)
      expect(posted[0]).toMatchObject({ csrfValid: true, fields: { decision: 'deny' } })
      expect(posted[0]!.fields['remember']).toBeUndefined()
      expect(watch.errors).toEqual([])
    } finally {
      await context.close()
    }
  })

  it('blocks the redirect after the POST when its origin is not in form-action (why formActionSources exist)', async () => {
    posted.length = 0
    const context = await browser.newContext()
    try {
      const { page, watch } = await watched(context)
      await page.goto(`${asOrigin}/consent-without-source`)
      const hits = callbackHits
      const violation = page.waitForEvent('console', {
        predicate: (message) => message.text().includes('form-action'),
        timeout: 10_000,
      })
      await page.click('button[value="approve"]')
      await violation
      await page.waitForTimeout(500)
      expect(posted).toHaveLength(1)
      expect(callbackHits).toBe(hits)
      expect(page.url()).toBe(`${asOrigin}/consent-without-source`)
      expect(watch.errors.join('\n')).toMatch(/CSP violation: form-action/)
    } finally {
      await context.close()
    }
  })

  it('refuses to be framed by another origin', async () => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      const messages: string[] = []
      page.on('console', (message) => messages.push(message.text()))

      // Control: without our headers the framed page shows its buttons, so the check below can fail.
      await page.goto(`${otherOrigin}/attacker-control`)
      const control = page.frames().find((frame) => frame !== page.mainFrame())!
      await control.waitForSelector('button[value="approve"]')
      expect(await control.content()).toContain('Approve')

      await page.goto(`${otherOrigin}/attacker`)
      await page.waitForLoadState('load')
      const framed = page.frames().find((frame) => frame !== page.mainFrame())!
      expect(framed.url()).not.toBe(`${asOrigin}/consent`)
      const content = await framed.content().catch(() => '')
      expect(content).not.toContain('Approve')
      expect(content).not.toContain('Acme Notes')
      expect(messages.join('\n')).toMatch(/frame-ancestors|X-Frame-Options/)
    } finally {
      await context.close()
    }
  })

  for (const scheme of ['light', 'dark'] as const) {
    for (const path of ['/login', '/login-error', '/consent']) {
      it(`has no serious or critical accessibility violation: ${path} (${scheme})`, async () => {
        const violations = await axeScan(scheme, path)
        const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
        expect(serious).toEqual([])
      })
    }
  }

  it('saves screenshots of both pages in light and dark', async () => {
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 900, height: 800 } })
      try {
        const page = await context.newPage()
        await page.goto(`${asOrigin}/login`)
        await page.screenshot({ path: `${IMAGES}login-${scheme}.png` })
        await page.goto(`${asOrigin}/preview/consent`)
        await page.screenshot({ path: `${IMAGES}consent-${scheme}.png`, fullPage: true })
      } finally {
        await context.close()
      }
    }
    const { stat } = await import('node:fs/promises')
    for (const name of ['login-light', 'login-dark', 'consent-light', 'consent-dark']) {
      expect((await stat(`${IMAGES}${name}.png`)).size).toBeGreaterThan(10_000)
    }
  })
})
