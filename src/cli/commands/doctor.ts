/**
 * `portcullis doctor <mcp-url>`: checks a server's authorization deployment, without logging in
 * or, with `--login`, through a full login.
 *
 * @module
 */
import { Command } from 'commander'
import { createSafeFetch } from '../../node/safe-fetch/safe-fetch.js'
import { isLoopbackHost } from '../../protocol/resource.js'
import { cliClientOptions } from '../client/auth-client.js'
import { withLoginOptions } from '../client/client-options.js'
import { formatReport, formatReportJson } from '../doctor/format-report.js'
import { runDoctor } from '../doctor/run-doctor.js'
import { CliError } from '../errors.js'
import { createProgress } from '../progress.js'

interface DoctorFlags {
  json?: boolean
  allowHttpLoopback?: boolean
  timeout: string
  login?: boolean
  browser?: boolean
  clientMetadataUrl?: string
}

/** Loopback targets are allowed by default only when the MCP URL itself is on this machine. */
function loopbackDefault(mcpUrl: string): boolean {
  try {
    return isLoopbackHost(new URL(mcpUrl).hostname)
  } catch {
    return false
  }
}

/** The `doctor` command. */
export function doctorCommand(): Command {
  return withLoginOptions(
    new Command('doctor')
      .description(
        "check an MCP server's authorization deployment against the spec, step by step (without logging in, unless --login)",
      )
      .argument('<mcp-url>', 'the MCP endpoint, e.g. https://mcp.example.com/mcp')
      .option('--json', 'print one JSON document instead of text')
      .option(
        '--login',
        'then log in through the browser and send an authenticated initialize and tools/list (nothing is stored)',
      ),
  )
    .option(
      '--allow-http-loopback',
      'contact 127.0.0.1, [::1] and localhost, over http too (default: on when <mcp-url> is a loopback URL)',
    )
    .option('--no-allow-http-loopback', 'never contact loopback addresses, even for a loopback <mcp-url>')
    .option('--timeout <ms>', 'time limit for each request', '10000')
    .addHelpText(
      'after',
      `
Checks, in the order a client meets them: the 401 and its WWW-Authenticate challenge; the
Protected Resource Metadata at the URLs clients look at, and its resource and authorization_servers;
each authorization server's metadata at the RFC 8414 / OpenID Connect URLs and its issuer;
PKCE S256; CIMD and DCR; RFC 9207 iss; https everywhere; CORS on the metadata; offline_access.
Each check prints pass, warn or fail with the spec section and how to fix it.

Only public addresses are contacted, and loopback when allowed. Without --login, nothing is
registered and no one logs in.

With --login, doctor then runs the client of portcullis connect: discovery, the Client ID
Metadata Document (--client-metadata-url) or dynamic registration, the browser login with PKCE
and the state and iss checks, the token; then an MCP initialize and tools/list with the token,
and the token's audience. The credentials are kept in memory only. --no-browser prints the login
URL instead of opening a browser.

Exit codes: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage error.

Examples:
  $ portcullis doctor https://mcp.example.com/mcp
  $ portcullis doctor http://127.0.0.1:8787/mcp
  $ portcullis doctor http://127.0.0.1:8787/mcp --login
  $ portcullis doctor https://mcp.example.com/mcp --login --client-metadata-url https://app.example.com/oauth/client.json
  $ portcullis doctor https://mcp.example.com/mcp --json | jq '.findings[] | select(.status == "fail")'`,
    )
    .action(async (mcpUrl: string, flags: DoctorFlags) => {
      const timeoutMs = Number(flags.timeout)
      if (!Number.isSafeInteger(timeoutMs) || timeoutMs < 1) {
        throw new CliError(
          'ERR_USAGE',
          `--timeout must be a positive number of milliseconds, not ${flags.timeout}`,
        )
      }
      if (flags.login !== true && (flags.browser === false || flags.clientMetadataUrl !== undefined)) {
        throw new CliError('ERR_USAGE', '--no-browser and --client-metadata-url apply to the login', {
          fix: 'Add --login, or leave them out.',
        })
      }
      const allowLoopback = flags.allowHttpLoopback ?? loopbackDefault(mcpUrl)
      const progress = createProgress({ silent: flags.json === true })
      const login =
        flags.login === true
          ? cliClientOptions({ mcpUrl, flags: { ...flags, allowHttpLoopback: allowLoopback }, progress })
          : undefined
      const report = await runDoctor({
        mcpUrl,
        fetch: createSafeFetch({ allowLoopback, timeoutMs, maxRedirects: 0 }),
        allowHttpLoopback: allowLoopback,
        ...(login === undefined ? {} : { login }),
        onStep: (title) => progress.step(title),
      })
      progress.done()
      process.stdout.write(`${flags.json === true ? formatReportJson(report) : formatReport(report)}\n`)
      if (!report.ok) process.exitCode = 1
    })
}
