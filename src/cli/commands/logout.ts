/**
 * `portcullis logout [<mcp-url>]`: revokes and forgets the stored tokens of a server, or forgets
 * every stored credential with `--all`.
 *
 * @module
 */
import { rm } from 'node:fs/promises'
import type { Command } from 'commander'
import { type ClientFlags, createCliAuthClient, credentialsDir } from '../client/auth-client.js'
import { clientCommand } from '../client/client-command.js'
import { CliError } from '../errors.js'
import { createProgress } from '../progress.js'

interface LogoutFlags extends ClientFlags {
  all?: boolean
  json?: boolean
}

/** The `logout` command. */
export function logoutCommand(): Command {
  return clientCommand('logout', {
    description: 'revoke and delete the stored tokens of an MCP server',
    urlOptional: true,
    options: [
      ['--all', 'delete every stored credential (tokens are not revoked)'],
      ['--json', 'print {"revoked": boolean}'],
    ],
  })
    .addHelpText(
      'after',
      `
Examples:
  $ portcullis logout http://127.0.0.1:8787/mcp
  $ portcullis logout --all`,
    )
    .action(async (mcpUrl: string | undefined, flags: LogoutFlags) => {
      if (mcpUrl === undefined) {
        if (flags.all !== true) {
          throw new CliError('ERR_USAGE', 'name the MCP server to log out of', {
            fix: 'Pass its URL, or --all to delete every stored credential.',
          })
        }
        await rm(credentialsDir(flags), { recursive: true, force: true })
        process.stdout.write(
          flags.json === true ? '{"deleted":true}\n' : 'Every stored credential was deleted.\n',
        )
        return
      }
      const progress = createProgress({ silent: flags.json === true })
      const auth = await createCliAuthClient({ mcpUrl, flags, progress })
      const { revoked } = await auth.logout(mcpUrl)
      progress.done()
      process.stdout.write(
        flags.json === true
          ? `${JSON.stringify({ revoked })}\n`
          : revoked
            ? `Logged out of ${mcpUrl}; the tokens were revoked.\n`
            : `Logged out of ${mcpUrl}; the tokens were deleted (nothing to revoke).\n`,
      )
    })
}
