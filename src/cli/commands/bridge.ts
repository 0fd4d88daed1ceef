/**
 * `portcullis bridge <mcp-url>`: a stdio MCP server for hosts that only speak stdio, forwarding
 * to a remote OAuth-protected MCP server with Portcullis doing the authorization.
 *
 * @module
 */
import { Command } from 'commander'
import {
  BRIDGE_ENVIRONMENT,
  type BridgeCredentials,
  BridgeError,
  createStaticTokenFetch,
  credentialsFromEnvironment,
  fileLoginLock,
  gateFirstLogin,
  runStdioBridge,
} from '../../bridge/index.js'
import { createFileCredentialStore } from '../../node/client/file-credential-store.js'
import { createNodeMcpAuthClient } from '../../node/client/node-auth-client.js'
import { isLoopbackHost } from '../../protocol/resource.js'
import {
  type ClientFlags,
  clientMetadataUrlOf,
  createCliAuthClient,
  credentialsDir,
  describeEvent,
} from '../client/auth-client.js'
import { withClientOptions } from '../client/client-options.js'
import { CliError } from '../errors.js'
import type { Progress } from '../progress.js'

/** Diagnostics go to stderr only: stdout is the host's MCP channel. */
function log(message: string): void {
  process.stderr.write(`portcullis bridge: ${message}\n`)
}

function environmentCredentials(): BridgeCredentials {
  try {
    return credentialsFromEnvironment()
  } catch (error) {
    if (!(error instanceof BridgeError)) throw error
    throw new CliError('ERR_CONFIG', error.message, {
      fix: `Set ${BRIDGE_ENVIRONMENT.bearerToken} alone, or ${BRIDGE_ENVIRONMENT.clientId}, ${BRIDGE_ENVIRONMENT.clientSecret} and ${BRIDGE_ENVIRONMENT.issuer} together, or none of them to log in through the browser.`,
    })
  }
}

async function remoteFetch(mcpUrl: URL, flags: ClientFlags): Promise<typeof fetch> {
  const credentials = environmentCredentials()
  const loopback = isLoopbackHost(mcpUrl.hostname)
  switch (credentials.type) {
    case 'bearer': {
      if (mcpUrl.protocol !== 'https:' && !(mcpUrl.protocol === 'http:' && loopback)) {
        throw new CliError('ERR_USAGE', `refusing to send ${BRIDGE_ENVIRONMENT.bearerToken} without TLS`, {
          fix: 'Use the https URL of the MCP server.',
        })
      }
      try {
        return createStaticTokenFetch(credentials.token, {
          onRefused: (status) => log(`the remote refused ${BRIDGE_ENVIRONMENT.bearerToken} (HTTP ${status})`),
        })
      } catch (error) {
        if (!(error instanceof BridgeError)) throw error
        throw new CliError('ERR_CONFIG', `${BRIDGE_ENVIRONMENT.bearerToken}: ${error.message}`, {
          fix: 'Set it to the access token alone, without "Bearer " or quotes.',
        })
      }
    }
    case 'interactive': {
      const progress: Progress = { step: log, done: (message) => message && log(message), fail: log }
      const auth = await createCliAuthClient({ mcpUrl: mcpUrl.href, flags, progress })
      return gateFirstLogin(auth, mcpUrl.href, fileLoginLock(credentialsDir(flags), mcpUrl.href))
    }
    case 'client_credentials': {
      const directory = credentialsDir(flags)
      const auth = createNodeMcpAuthClient({
        credentialStore: await createFileCredentialStore({
          directory,
          ...(flags.keychain === false ? { keychain: false as const } : {}),
        }),
        allowInsecureLoopback: flags.allowHttpLoopback ?? loopback,
        grant: {
          type: 'client_credentials',
          ...(credentials.scope === undefined ? {} : { scope: credentials.scope }),
        },
        preRegistered: {
          [credentials.issuer]: { client_id: credentials.clientId, client_secret: credentials.clientSecret },
        },
        onEvent: (event) => log(describeEvent(event)),
      })
      return gateFirstLogin(auth, mcpUrl.href, fileLoginLock(directory, mcpUrl.href))
    }
  }
}

/** The `bridge` command. */
export function bridgeCommand(): Command {
  return withClientOptions(
    new Command('bridge')
      .description('a stdio MCP server that forwards to a remote MCP server and does its authorization')
      .argument('<mcp-url>', 'the remote MCP endpoint (Streamable HTTP), e.g. https://mcp.example.com/mcp'),
  )
    .addHelpText(
      'after',
      `
Run it from an MCP host that only speaks stdio. Stdout carries MCP messages only; progress and
the login URL go to stderr. Credentials are kept (encrypted) and shared: several bridges for
one server log in once, and refresh without racing each other.

Credentials for headless use, from the environment:
  ${BRIDGE_ENVIRONMENT.bearerToken}     a static access token (no login, no refresh)
  ${BRIDGE_ENVIRONMENT.clientId}, ${BRIDGE_ENVIRONMENT.clientSecret}, ${BRIDGE_ENVIRONMENT.issuer} (and optionally ${BRIDGE_ENVIRONMENT.scope})
                              the client credentials grant, with a client registered at that issuer

Examples:
  $ portcullis bridge https://mcp.example.com/mcp
  $ portcullis bridge https://mcp.example.com/mcp --client-metadata-url https://app.example.com/oauth/client.json
  $ ${BRIDGE_ENVIRONMENT.bearerToken}=... portcullis bridge https://mcp.example.com/mcp

In a host's configuration (Claude Desktop, Cursor):
  { "mcpServers": { "example": { "command": "npx", "args": ["portcullis", "bridge", "https://mcp.example.com/mcp"] } } }`,
    )
    .action(async (mcpUrlText: string, flags: ClientFlags) => {
      let mcpUrl: URL
      try {
        mcpUrl = new URL(mcpUrlText)
      } catch {
        throw new CliError('ERR_USAGE', `${mcpUrlText} is not a URL`, {
          fix: 'Pass the full URL of the MCP endpoint, e.g. https://mcp.example.com/mcp',
        })
      }
      if (mcpUrl.protocol !== 'https:' && mcpUrl.protocol !== 'http:') {
        throw new CliError('ERR_USAGE', `${mcpUrlText} is not an http(s) URL`, {
          fix: 'The bridge speaks Streamable HTTP: pass the https URL of the MCP endpoint.',
        })
      }
      // A bad flag is refused whatever the credentials, not only when a login happens.
      clientMetadataUrlOf(flags)
      const fetch = await remoteFetch(mcpUrl, flags)
      log(`forwarding stdio to ${mcpUrl.href}`)
      await runStdioBridge({ url: mcpUrl, fetch, log })
      log('closed')
      // Idle keep-alive sockets must not hold the process once the host is gone.
      setTimeout(() => process.exit(), 1000).unref()
    })
}
