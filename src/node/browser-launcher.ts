/**
 * The system browser launcher behind `openInBrowser`. It receives only URLs that `browserSafeUrl`
 * accepted, and never runs them through a command interpreter it chooses itself.
 *
 * @module
 */

import { type ChildProcess, spawn } from 'node:child_process'
import open from 'open'

/** A launcher program and its arguments; the URL is always the last argument, on its own. */
export interface LaunchCommand {
  command: string
  args: string[]
}

/**
 * The program that opens `url` on `platform`, or `undefined` where the `open` package decides.
 *
 * On Windows, `open` runs PowerShell (`Start '<url>'` in `-EncodedCommand`), which MCP's security
 * best practices rule out for authorization URLs; `url.dll,FileProtocolHandler` hands the URL to
 * the registered protocol handler with no interpreter in between. On Linux (`xdg-open`) and macOS
 * (`open`), the `open` package spawns the launcher without a shell, the URL as one argument.
 *
 * @see [MCP Security Best Practices, OAuth authorization URL validation](https://modelcontextprotocol.io/docs/tutorials/security/security_best_practices)
 */
export function launchCommandFor(platform: NodeJS.Platform, url: string): LaunchCommand | undefined {
  if (platform === 'win32') return { command: 'rundll32.exe', args: ['url.dll,FileProtocolHandler', url] }
  return undefined
}

// How long a launcher that is still running counts as success; one that exits non-zero within
// this window (no browser, no display) counts as failure.
const LAUNCH_GRACE_MS = 1500

function spawnDetached(command: LaunchCommand): Promise<ChildProcess> {
  const child = spawn(command.command, command.args, {
    shell: false,
    stdio: 'ignore',
    detached: true,
    windowsHide: true,
  })
  return new Promise((resolve, reject) => {
    child.once('error', reject)
    child.once('spawn', () => {
      child.off('error', reject)
      child.unref()
      resolve(child)
    })
  })
}

/**
 * Opens `url` with the platform's launcher (see {@link launchCommandFor}). Rejects when the
 * launcher cannot be started or exits with a non-zero status soon after starting, so that the
 * caller can show the URL instead.
 */
export async function systemOpener(url: string): Promise<void> {
  const command = launchCommandFor(process.platform, url)
  const child = command === undefined ? await open(url) : await spawnDetached(command)
  const exitCode = await new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) return resolve(child.exitCode)
    const onExit = (code: number | null) => {
      clearTimeout(timer)
      resolve(code ?? 1)
    }
    const timer = setTimeout(() => {
      child.off('exit', onExit)
      resolve(null)
    }, LAUNCH_GRACE_MS)
    child.once('exit', onExit)
  })
  if (exitCode !== null && exitCode !== 0)
    throw new Error(`the browser launcher exited with status ${exitCode}`)
}
