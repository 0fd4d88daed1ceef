/**
 * The MCP authorization client the `connect`, `token`, `logout` and `bridge` commands share:
 * credentials in an encrypted directory (shared by every `portcullis` process, with a
 * cross-process lock), the loopback receiver and the system browser, and each step reported as
 * progress. `doctor --login` builds the same client over an in-memory credential store.
 *
 * @module
 */
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { McpAuthClient, McpAuthEvent } from '../../client/flow.js'
import { createFileCredentialStore } from '../../node/client/file-credential-store.js'
import { createNodeMcpAuthClient, type NodeMcpAuthClientOptions } from '../../node/client/node-auth-client.js'
import { createLoopbackRedirectHandler } from '../../node/client/redirect-handler.js'
import { isClientIdMetadataDocumentUrl } from '../../protocol/client-metadata.js'
import { isLoopbackHost } from '../../protocol/resource.js'
import { CliError } from '../errors.js'
import type { Progress } from '../progress.js'

/** The flags every client command takes. */
export interface ClientFlags {
  credentialsDir?: string
  keychain?: boolean
  browser?: boolean
  allowHttpLoopback?: boolean
  clientMetadataUrl?: string
}

/** Where credentials live: `--credentials-dir`, `$PORTCULLIS_CREDENTIALS_DIR`, or `~/.portcullis/credentials`. */
export function credentialsDir(flags: ClientFlags, env: NodeJS.ProcessEnv = process.env): string {
  return (
    flags.credentialsDir ?? env['PORTCULLIS_CREDENTIALS_DIR'] ?? join(homedir(), '.portcullis', 'credentials')
  )
}

/** One line per client step, for progress. Never a token. */
export function describeEvent(event: McpAuthEvent): string {
  switch (event.type) {
    case 'discovery':
      return event.step === 'resource-metadata'
        ? `Discovery: protected resource metadata at ${event.url}`
        : `Discovery: authorization server metadata at ${event.url}`
    case 'registration':
      return `Registration with ${event.issuer} (${event.method})`
    case 'browser':
      return `Waiting for the login in the browser (${new URL(event.url).origin})`
    case 'token':
      return `Token from ${event.issuer} (${event.grant})`
    case 'refresh':
      return `Refreshing the token at ${event.issuer}`
    case 'step-up':
      return `More scope needed: ${event.scope}`
    case 'logout':
      return event.revoked
        ? `Tokens revoked at ${event.issuer}`
        : `Tokens forgotten (${event.issuer} offers no revocation)`
  }
}

/** `--no-browser`: nothing is launched; the URL is printed. */
async function noBrowser(): Promise<void> {
  throw new Error('--no-browser')
}

/**
 * `--client-metadata-url`, checked: the client's Client ID Metadata Document URL, `https` with a
 * path (MCP: Client ID Metadata Documents).
 *
 * @throws {CliError} `ERR_USAGE` for any other URL
 */
export function clientMetadataUrlOf(flags: ClientFlags): string | undefined {
  const url = flags.clientMetadataUrl
  if (url === undefined || isClientIdMetadataDocumentUrl(url)) return url
  throw new CliError(
    'ERR_USAGE',
    `--client-metadata-url must be an https URL with a path (no query, fragment or user info), not ${url}`,
    {
      fix: "Pass the https URL where the client's metadata document is published, e.g. --client-metadata-url https://app.example.com/oauth/client.json; its client_id must be that same URL.",
    },
  )
}

/** Options of {@link createCliAuthClient}. */
export interface CliAuthClientOptions {
  mcpUrl: string
  flags: ClientFlags
  progress: Progress
  /** Where an authorization URL is printed when no browser opens (stderr by default). */
  printUrl?: (url: string) => void
}

/**
 * The options of the client every command builds, but its credential store: the loopback
 * receiver and the browser (or the printed URL), http to loopback for a loopback `<mcp-url>`, the
 * Client ID Metadata Document URL, and each step reported as progress.
 *
 * @throws {CliError} `ERR_USAGE` for an MCP URL that is not a URL, or a bad `--client-metadata-url`
 */
export function cliClientOptions(options: CliAuthClientOptions): NodeMcpAuthClientOptions {
  let loopback: boolean
  try {
    loopback = isLoopbackHost(new URL(options.mcpUrl).hostname)
  } catch {
    throw new CliError('ERR_USAGE', `${options.mcpUrl} is not a URL`, {
      fix: 'Pass the full URL of the MCP endpoint, e.g. https://mcp.example.com/mcp',
    })
  }
  const clientMetadataUrl = clientMetadataUrlOf(options.flags)
  const printUrl =
    options.printUrl ??
    ((url: string) => process.stderr.write(`Open this URL in a browser to log in:\n${url}\n`))
  return {
    allowInsecureLoopback: options.flags.allowHttpLoopback ?? loopback,
    clientMetadata: { client_name: 'Portcullis CLI', application_type: 'native' },
    ...(clientMetadataUrl === undefined ? {} : { clientMetadataUrl }),
    redirect: createLoopbackRedirectHandler(
      options.flags.browser === false ? { opener: noBrowser, onUrl: printUrl } : { onUrl: printUrl },
    ),
    onEvent: (event) => options.progress.step(describeEvent(event)),
  }
}

/** The client of one command run, with the credentials kept (encrypted) in the credentials directory. */
export async function createCliAuthClient(options: CliAuthClientOptions): Promise<McpAuthClient> {
  const clientOptions = cliClientOptions(options)
  const credentialStore = await createFileCredentialStore({
    directory: credentialsDir(options.flags),
    ...(options.flags.keychain === false ? { keychain: false as const } : {}),
  })
  return createNodeMcpAuthClient({ ...clientOptions, credentialStore })
}
