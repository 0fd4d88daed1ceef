import { type Browser, chromium } from 'playwright-core'

/**
 * Debian's Chromium, headless, with nothing that reaches beyond loopback (no background
 * networking, component updates, sync or QUIC). Playwright refuses `--user-data-dir` in `args`;
 * every launch gets its own fresh profile, made with mkdtemp and removed on close.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
}
