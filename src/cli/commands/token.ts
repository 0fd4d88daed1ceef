/**
 * `portcullis token <mcp-url>`: prints a valid access token for scripts, refreshing it (or
 * logging in) when needed.
 *
 * @module
 */
import type { Command } from 'commander'
import { type ClientFlags, createCliAuthClient } from '../client/auth-client.js'
import { clientCommand } from '../client/client-command.js'
import { CliError } from '../errors.js'
import { createProgress } from '../progress.js'

interface TokenFlags extends ClientFlags {
  login: boolean
  json?: boolean
}

/** The `token` command. */
export function tokenCommand(): Command {
  return clientCommand('token', {
    description: 'print a valid access token for an MCP server (for scripts)',
    options: [
      ['--no-login', 'fail instead of logging in when no usable token is stored'],
      ['--json', 'print {"access_token", "token_type"}'],
    ],
  })
    .addHelpText(
      'after',
      `
Only the token goes to stdout; progress goes to stderr. Treat the output as a secret.

Examples:
  $ curl -H "Authorization: Bearer $(portcullis token http://127.0.0.1:8787/mcp)" ...
  $ portcullis token https://mcp.example.com/mcp --no-login --json`,
    )
    .action(async (mcpUrl: string, flags: TokenFlags) => {
      const progress = createProgress()
      const auth = await createCliAuthClient({ mcpUrl, flags, progress })
      const token = await auth.token(mcpUrl, { interactive: flags.login })
      progress.done()
      if (token === undefined) {
        throw new CliError('ERR_RUNTIME', `no usable token for ${mcpUrl}`, {
          fix: `Log in first: portcullis connect ${mcpUrl}`,
        })
      }
      process.stdout.write(flags.json === true ? `${JSON.stringify(token)}\n` : `${token.access_token}\n`)
    })
}
