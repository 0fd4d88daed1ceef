/**
 * The `portcullis` command tree. Each subcommand is a thin layer over the public API.
 *
 * @module
 */
import { createRequire } from 'node:module'
import { Command } from 'commander'

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

/** Builds the command tree; tests run it in-process. */
export function createProgram(): Command {
  return new Command('portcullis')
    .description('MCP authorization: authorization server, resource server, client, proxy and stdio bridge')
    .version(version)
    .showHelpAfterError()
}
