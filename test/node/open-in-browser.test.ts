import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { launchCommandFor } from '../../src/node/browser-launcher.js'
import { BrowserOpenError, type BrowserOpenErrorCode } from '../../src/node/errors.js'
import { browserSafeUrl, openInBrowser } from '../../src/node/open-in-browser.js'

// Every URL that could reach a real launcher in this file points at 127.0.0.1.

function recordingOpener() {
  const calls: unknown[][] = []
  const opener = async (...args: unknown[]) => {
    calls.push(args)
  }
  return { opener, calls }
}

async function refused(url: string, code: BrowserOpenErrorCode, options = {}) {
  const { opener, calls } = recordingOpener()
  const error = await openInBrowser(url, { ...options, opener }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(BrowserOpenError)
  expect((error as BrowserOpenError).code).toBe(code)
  expect(calls).toEqual([])
}

// Characters that mean something to sh, cmd.exe or PowerShell and are not URL delimiters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters must not appear in the output
const SHELL_SPECIAL = /[!$'()*,;[\]^`{|}\\"<>\s\u0000-\u001f\u007f]/

describe('openInBrowser: refusals (CVE-2025-6514 vectors)', () => {
  it.each([
    'file:///etc/passwd',
    'javascript:alert(1)',
    'data:text/html,<script>alert(1)</script>',
    'a:$(calc)',
    'ms-msdt:/id PCWDiagnostic /skip force',
    'ms-msdt:-id',
    'vscode://x',
    'ms-settings:',
    'smb://attacker.example.com/share',
    'ftp://127.0.0.1/',
    'vbscript:msgbox(1)',
  ])('refuses %s', async (url) => {
    const code = /\s/.test(url) ? 'ERR_CONTROL_CHARACTERS' : 'ERR_SCHEME_NOT_ALLOWED'
    await refused(url, code)
  })

  it('refuses http: to anything but loopback, and loopback http: when disabled', async () => {
    await refused('http://example.com/authorize', 'ERR_SCHEME_NOT_ALLOWED')
    await refused('http://10.0.0.1/', 'ERR_SCHEME_NOT_ALLOWED')
    await refused('http://localhost.example.com/', 'ERR_SCHEME_NOT_ALLOWED')
    await refused('http://127.0.0.1:8080/cb', 'ERR_SCHEME_NOT_ALLOWED', { allowLoopbackHttp: false })
  })

  it('refuses userinfo', async () => {
    await refused('https://user:pass@h.example.com/', 'ERR_USERINFO')
    await refused('https://user@h.example.com/', 'ERR_USERINFO')
  })

  it.each([
    'https://h.example.com/\n$(id)',
    'https://h.example.com/\t',
    'https://h.example.com/a b',
    ' https://h.example.com/',
    'https://h.example.com/\u0000',
    'https://h.example.com/\u202e',
    'https://h.example.com/\u2028',
    'java\nscript:alert(1)',
  ])('refuses control characters and whitespace in the raw string: %j', async (url) => {
    await refused(url, 'ERR_CONTROL_CHARACTERS')
  })

  it('refuses hosts that are not DNS names or IP addresses', async () => {
    await refused('https://a$(calc).example.com/', 'ERR_INVALID_URL')
    await refused("https://a'b.example.com/", 'ERR_INVALID_URL')
    await refused('https://a&calc.example.com/', 'ERR_INVALID_URL')
    await refused('notaurl', 'ERR_INVALID_URL')
  })
})

describe('openInBrowser: what the opener receives', () => {
  it.each([
    ['https://x.example.com/$(id)', 'https://x.example.com/%24%28id%29'],
    ['https://h.example.com/?q=";calc"', 'https://h.example.com/?q=%22%3Bcalc%22'],
    ["https://h.example.com/a'b`c|d&e", 'https://h.example.com/a%27b%60c%7Cd%26e'],
    ['https://h.example.com/?a=1&b=2+3&c=%zz', 'https://h.example.com/?a=1&b=2+3&c=%25zz'],
    ['https://h.example.com/#x=$(id)', 'https://h.example.com/#x=%24%28id%29'],
    ['HTTPS://H.Example.COM:443/a/../b', 'https://h.example.com/b'],
    [
      'http://127.0.0.1:8080/callback?code=abc&state=xyz',
      'http://127.0.0.1:8080/callback?code=abc&state=xyz',
    ],
    ['http://localhost:3000/', 'http://localhost:3000/'],
    ['http://[::1]:3000/cb', 'http://[::1]:3000/cb'],
    ['https://bücher.example/', 'https://xn--bcher-kva.example/'],
  ])('%s is passed as the single argument %s', async (input, expected) => {
    const { opener, calls } = recordingOpener()
    const result = await openInBrowser(input, { opener })
    expect(result).toEqual({ opened: true, url: expected })
    expect(calls).toEqual([[expected]])
  })

  it('keeps the meaning of every accepted URL and leaves no shell-special character in it', () => {
    const segment = fc.string({
      unit: fc.constantFrom(...'abc$()\';&|`"<>{}[]^!*,\\%=+?#/~.-_é€2F'.split('')),
    })
    fc.assert(
      fc.property(segment, segment, segment, (path, query, fragment) => {
        const input = `https://h.example.com/${path}?${query}#${fragment}`
        const output = browserSafeUrl(input)
        expect(output).not.toMatch(SHELL_SPECIAL)
        const a = new URL(input)
        const b = new URL(output)
        expect(b.origin).toBe(a.origin)
        expect([...b.searchParams]).toEqual([...a.searchParams])
        expect(percentDecode(b.pathname)).toEqual(percentDecode(a.pathname))
        expect(percentDecode(b.hash)).toEqual(percentDecode(a.hash))
      }),
    )
  })

  it('reports opened: false with the URL when the opener fails, instead of throwing', async () => {
    const result = await openInBrowser('https://as.example.com/authorize?x=1', {
      opener: async () => {
        throw new Error('no display')
      },
    })
    expect(result).toEqual({ opened: false, url: 'https://as.example.com/authorize?x=1' })
  })
})

describe('launchCommandFor', () => {
  it('uses no command interpreter on Windows: the URL is the last argument of rundll32, on its own', () => {
    const url = browserSafeUrl('https://h.example.com/$(calc)?q=";calc"&x=1')
    expect(launchCommandFor('win32', url)).toEqual({
      command: 'rundll32.exe',
      args: ['url.dll,FileProtocolHandler', 'https://h.example.com/%24%28calc%29?q=%22%3Bcalc%22&x=1'],
    })
  })

  it('leaves Linux and macOS to the open package (xdg-open / open, spawned without a shell)', () => {
    expect(launchCommandFor('linux', 'https://h.example.com/')).toBeUndefined()
    expect(launchCommandFor('darwin', 'https://h.example.com/')).toBeUndefined()
  })
})

/** The bytes a percent-encoded string stands for (a `%` without two hex digits is itself). */
function percentDecode(text: string): number[] {
  const bytes: number[] = []
  for (let i = 0; i < text.length; i++) {
    const hex = text.slice(i + 1, i + 3)
    if (text[i] === '%' && /^[0-9A-Fa-f]{2}$/.test(hex)) {
      bytes.push(Number.parseInt(hex, 16))
      i += 2
    } else {
      bytes.push(...new TextEncoder().encode(text[i]))
    }
  }
  return bytes
}

async function withEnv<T>(env: Record<string, string | undefined>, run: () => Promise<T>): Promise<T> {
  const saved: Record<string, string | undefined> = {}
  for (const [name, value] of Object.entries(env)) {
    saved[name] = process.env[name]
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
  try {
    return await run()
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  }
}

// The `open` package launches its bundled `xdg-open` on Linux; these run the real system opener.
describe.runIf(process.platform === 'linux')('openInBrowser: the system opener', () => {
  const noDisplay = { DISPLAY: undefined, WAYLAND_DISPLAY: undefined, XDG_CURRENT_DESKTOP: undefined }

  it('hands the launcher exactly one argument, the checked URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'portcullis-open-'))
    try {
      const out = join(dir, 'argv.txt')
      const recorder = join(dir, 'recorder')
      writeFileSync(recorder, `#!/bin/sh\nprintf '%s\\n' "$#" "$@" > '${out}'\n`)
      chmodSync(recorder, 0o755)
      const canary = join(dir, 'pwned')
      const result = await withEnv({ ...noDisplay, BROWSER: recorder }, () =>
        openInBrowser(`https://127.0.0.1:9/$(touch\${IFS}${canary})?q=";touch\${IFS}${canary}"&r=\`id\``),
      )
      const expected = `https://127.0.0.1:9/%24%28touch%24%7BIFS%7D${canary}%29?q=%22%3Btouch%24%7BIFS%7D${canary}%22&r=%60id%60`
      expect(result).toEqual({ opened: true, url: expected })
      for (let i = 0; i < 50 && !existsSync(out); i++) await new Promise((r) => setTimeout(r, 50))
      expect(readFileSync(out, 'utf8')).toBe(`1\n${expected}\n`)
      expect(existsSync(canary)).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('reports opened: false when no browser can be launched', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'portcullis-nopath-'))
    try {
      const result = await withEnv({ ...noDisplay, BROWSER: undefined, PATH: empty }, () =>
        openInBrowser('http://127.0.0.1:9/callback'),
      )
      expect(result).toEqual({ opened: false, url: 'http://127.0.0.1:9/callback' })
    } finally {
      rmSync(empty, { recursive: true, force: true })
    }
  })
})
