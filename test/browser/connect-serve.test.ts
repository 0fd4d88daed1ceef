/**
 * The whole flow a newcomer sees, in a real Chromium: `portcullis serve`, then
 * `portcullis connect --call whoami`; Chromium opens the login URL the client prints, signs in and
 * approves (or denies) on the consent page, and lands on the client's loopback receiver.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CliProcess, startCli } from '../cli/support/run-cli.js'
import { launchChromium } from './launch.js'

let root: string
let serve: CliProcess
let browser: Browser
let mcp: string
let username: string
let password: string

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'portcullis-browser-connect-'))
  serve = startCli(['serve', '--port', '0', '--data-dir', join(root, 'data')])
  const match = await serve.waitFor(/^mcp: (\S+)\nusername: (\S+)\npassword: (\S+)\n/m, 90_000)
  ;[, mcp, username, password] = match as unknown as [string, string, string, string]
  browser = await launchChromium()
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await serve?.stop()
  rmSync(root, { recursive: true, force: true })
})

/** Starts `connect`, waits for the login URL it prints, and hands the URL to `drive`. */
async function connectWith(
  credentialsDir: string,
  drive: (page: Page) => Promise<void>,
): Promise<{ code: number | null; stdout: string; stderr: string; problems: string[] }> {
  const child = startCli([
    'connect',
    mcp,
    '--call',
    'whoami',
    '--no-browser',
    '--no-keychain',
    '--credentials-dir',
    credentialsDir,
  ])
  const started = Date.now()
  let url: string | undefined
  while (url === undefined) {
    url = /Open this URL in a browser to log in:\n(\S+)\n/.exec(child.stderr())?.[1]
    if (Date.now() - started > 90_000) throw new Error(`no login URL: ${child.stderr()}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  const context = await browser.newContext()
  const page = await context.newPage()
  // Any console error or Content-Security-Policy violation on our pages is a failure.
  const problems: string[] = []
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text())
  })
  page.on('pageerror', (error) => problems.push(error.message))
  await page.goto(url)
  await drive(page)
  const code = await child.exited()
  await context.close()
  return { code, stdout: child.stdout(), stderr: child.stderr(), problems }
}

async function signIn(page: Page): Promise<void> {
  await page.getByLabel('Username').fill(username)
  await page.getByLabel('Password').fill(password)
  await page.getByRole('button', { name: /sign in/i }).click()
  await page.getByRole('button', { name: 'Approve' }).waitFor()
}

describe('portcullis connect against portcullis serve, in Chromium', { timeout: 180_000 }, () => {
  it('signs in, approves, and the tool call succeeds', async () => {
    const result = await connectWith(join(root, 'approve'), async (page) => {
      await signIn(page)
      // The consent page names the client, where the browser goes next, and the scope.
      await expect(page.locator('body').textContent()).resolves.toContain('127.0.0.1')
      await expect(page.locator('body').textContent()).resolves.toContain('notes:read')
      await page.getByRole('button', { name: 'Approve' }).click()
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\//)
    })
    expect(result.problems).toEqual([])
    expect(result.code).toBe(0)
    expect(JSON.parse(result.stdout)).toMatchObject({ subject: username, scopes: ['notes:read'] })
  })

  it('denies, and the client stops without a token', async () => {
    const result = await connectWith(join(root, 'deny'), async (page) => {
      await signIn(page)
      await page.getByRole('button', { name: 'Deny' }).click()
      await page.waitForURL(/^http:\/\/127\.0\.0\.1:\d+\//)
    })
    expect(result.problems).toEqual([])
    expect(result.code).not.toBe(0)
    expect(result.stdout).toBe('')
    expect(result.stderr).toContain('the authorization server did not grant access')
    expect(result.stderr).not.toContain('Token from')
  })
})
