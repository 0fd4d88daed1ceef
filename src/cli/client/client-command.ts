/**
 * The declaration every command that acts on one MCP server starts from.
 *
 * @module
 */
import { Command } from 'commander'
import { withClientOptions } from './client-options.js'

/** Options of {@link clientCommand}. */
export interface ClientCommandSpec {
  description: string
  /** The command can run without `<mcp-url>` (it has another way to say what it acts on). */
  urlOptional?: boolean
  /** The command's own options, `[flags, description]`, listed before the shared client options. */
  options: readonly (readonly [flags: string, description: string])[]
}

/** A client command: `name <mcp-url>`, its own options, then the options every client command takes. */
export function clientCommand(name: string, spec: ClientCommandSpec): Command {
  const command = new Command(name)
    .description(spec.description)
    .argument(spec.urlOptional === true ? '[mcp-url]' : '<mcp-url>', 'the MCP endpoint')
  for (const [flags, description] of spec.options) command.option(flags, description)
  return withClientOptions(command)
}
