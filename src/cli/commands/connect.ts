/**
 * `portcullis connect <mcp-url>`: logs in (or reuses stored credentials), lists the server's
 * tools, and calls one with `--call`.
 *
 * @module
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js'
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js'
import { Command } from 'commander'
import pc from 'picocolors'
import { type ClientFlags, createCliAuthClient } from '../client/auth-client.js'
import { withClientOptions } from '../client/client-options.js'
import { CliError } from '../errors.js'
import { createProgress } from '../progress.js'

interface ConnectFlags extends ClientFlags {
  call?: string
  args: string
  json?: boolean
}

function parseArgs(json: string): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(json)
  } catch {
    value = undefined
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new CliError('ERR_USAGE', '--args must be a JSON object', {
      fix: `e.g. --args '{"text": "hello"}'`,
    })
  }
  return value as Record<string, unknown>
}

/** The `connect` command. */
export function connectCommand(): Command {
  return withClientOptions(
    new Command('connect')
      .description('log in to an MCP server, list its tools, and optionally call one')
      .argument('<mcp-url>', 'the MCP endpoint, e.g. https://mcp.example.com/mcp')
      .option('--call <tool>', 'call this tool')
      .option('--args <json>', 'the tool arguments, a JSON object', '{}')
      .option('--json', 'print JSON (the tool list, or the call result)'),
  )
    .addHelpText(
      'after',
      `
Shows each step as it happens: discovery, registration (or, with --client-metadata-url, the
Client ID Metadata Document as client id where the server supports it), the browser login, the
token. The credentials are kept (encrypted) and reused on the next run, refreshed when they
expire; a tool that needs more scope triggers a new login for it (step-up).

Examples:
  $ portcullis connect http://127.0.0.1:8787/mcp
  $ portcullis connect http://127.0.0.1:8787/mcp --call add_note --args '{"text": "hello"}'
  $ portcullis connect https://mcp.example.com/mcp --no-browser --json
  $ portcullis connect https://mcp.example.com/mcp --client-metadata-url https://app.example.com/oauth/client.json`,
    )
    .action(async (mcpUrl: string, flags: ConnectFlags) => {
      const args = parseArgs(flags.args)
      const progress = createProgress({ silent: flags.json === true })
      const auth = await createCliAuthClient({ mcpUrl, flags, progress })
      const client = new Client({ name: 'portcullis-cli', version: '1' })
      progress.step(`Connecting to ${mcpUrl}`)
      try {
        await client.connect(new StreamableHTTPClientTransport(new URL(mcpUrl), { fetch: auth.fetch }))
        if (flags.call === undefined) {
          const { tools } = await client.listTools()
          progress.done()
          if (flags.json === true) {
            process.stdout.write(`${JSON.stringify(tools, null, 2)}\n`)
          } else {
            process.stdout.write(`${tools.length} tool${tools.length === 1 ? '' : 's'}:\n`)
            for (const tool of tools)
              process.stdout.write(`  ${pc.bold(tool.name)}  ${tool.description ?? ''}\n`)
          }
          return
        }
        progress.step(`Calling ${flags.call}`)
        const result = await client.callTool({ name: flags.call, arguments: args })
        progress.done()
        if (flags.json === true) {
          process.stdout.write(`${JSON.stringify(result, null, 2)}\n`)
        } else {
          for (const item of (result.content ?? []) as Array<{ type: string; text?: string }>) {
            process.stdout.write(`${item.type === 'text' ? item.text : JSON.stringify(item)}\n`)
          }
        }
        if (result.isError === true) process.exitCode = 1
      } catch (error) {
        progress.fail('Failed')
        throw error
      } finally {
        await client.close().catch(() => {})
      }
    })
}
