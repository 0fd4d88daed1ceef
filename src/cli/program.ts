/**
 * The `portcullis` command tree. Each subcommand is a thin layer over the public API.
 *
 * @module
 */
import { createRequire } from 'node:module'
import { Command } from 'commander'
import { bridgeCommand } from './commands/bridge.js'
import { connectCommand } from './commands/connect.js'
import { doctorCommand } from './commands/doctor.js'
import { keysCommand } from './commands/keys.js'
import { logoutCommand } from './commands/logout.js'
import { serveCommand } from './commands/serve.js'
import { tokenCommand } from './commands/token.js'

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

/** Builds the command tree; tests run it in-process. */
export function createProgram(): Command {
  return new Command('portcullis')
    .description('MCP authorization: authorization server, resource server, client, proxy and stdio bridge')
    .version(version)
    .showHelpAfterError()
    .addCommand(serveCommand())
    .addCommand(connectCommand())
    .addCommand(bridgeCommand())
    .addCommand(doctorCommand())
    .addCommand(tokenCommand())
    .addCommand(logoutCommand())
    .addCommand(keysCommand())
}
