/** Runs a `portcullis` command that logs in with `--no-browser`, doing the browser's part. */
import { completeLogin } from './form-browser.js'
import { type CliResult, startCli } from './run-cli.js'

/**
 * Runs `portcullis <args>` to completion; each login URL it prints on stderr is logged in at as
 * `username` (login form, then the consent: approved unless `decision` says otherwise), as a user
 * in a browser would.
 */
export async function runWithLogin(
  args: readonly string[],
  account: { username: string; password: string },
  options: { env?: NodeJS.ProcessEnv; decision?: 'approve' | 'deny' } = {},
): Promise<CliResult & { logins: number }> {
  const child = startCli(args, options.env === undefined ? {} : { env: options.env })
  let logins = 0
  const driven = new Set<string>()
  const drive = setInterval(() => {
    for (const [, url] of child.stderr().matchAll(/Open this URL in a browser to log in:\n(\S+)\n/g)) {
      if (driven.has(url!)) continue
      driven.add(url!)
      logins++
      void completeLogin(url!, account.username, account.password, options.decision)
    }
  }, 100)
  const code = await child.exited()
  clearInterval(drive)
  return { code, stdout: child.stdout(), stderr: child.stderr(), logins }
}
