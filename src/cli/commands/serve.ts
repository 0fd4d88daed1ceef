/**
 * `portcullis serve`: the authorization server and a protected demo MCP server, in one process.
 *
 * @module
 */
import { Command } from 'commander'
import pc from 'picocolors'
import { createProgress } from '../progress.js'
import { resolveServeConfig, SERVE_DEFAULTS, type ServeFlags } from '../serve/config.js'
import { createLogger } from '../serve/logger.js'
import { startServe } from '../serve/start-serve.js'

/** The `serve` command. */
export function serveCommand(): Command {
  return new Command('serve')
    .description('run an authorization server and a protected demo MCP server, ready to connect to')
    .option('--port <port>', `port to listen on (default ${SERVE_DEFAULTS.port}; 0 picks a free one)`)
    .option('--host <host>', `address to listen on (default ${SERVE_DEFAULTS.host})`)
    .option(
      '--data-dir <dir>',
      `where the database, keys and demo account live (default ${SERVE_DEFAULTS.dataDir})`,
    )
    .option(
      '--issuer <url>',
      'public URL of the server when it sits behind a proxy (default http://<host>:<port>)',
    )
    .option('--postgres <url>', 'keep state in Postgres (shared by several replicas) instead of SQLite')
    .option(
      '--upstream <preset|issuer>',
      'proxy logins to an upstream identity provider instead of local accounts',
    )
    .option('--config <file>', 'read settings from a JSON file (flags win)')
    .option('--log-format <format>', 'text or json (default text)')
    .addHelpText(
      'after',
      `
Starts, on one port:
  /            the authorization server (metadata, login and consent pages, tokens, registration)
  /mcp         a demo MCP server (tools whoami, list_notes: notes:read; add_note: notes:write;
               delete_all_notes: notes:admin), protected by Portcullis's resource server
  /healthz     health, with the store's status

Prints "issuer: <url>" and "mcp: <url>" on their own lines once listening, then the demo
account's username and password (generated on first start, kept in <data-dir>). Logs go to
stderr. The data directory is created with mode 0700; its secrets.json holds the key that
encrypts the signing keys. With --postgres, set PORTCULLIS_ENCRYPTION_KEY and
PORTCULLIS_COOKIE_SECRET to the same values on every replica.

Config file keys: port, host, dataDir, issuer, postgres, upstream, logFormat.

Examples:
  $ portcullis serve
  $ portcullis serve --port 9000 --data-dir ~/.portcullis-demo
  $ portcullis serve --host 0.0.0.0 --issuer https://auth.example.com --log-format json
  $ portcullis serve --postgres postgres://portcullis@db.internal/portcullis --issuer https://auth.example.com`,
    )
    .action(async (flags: ServeFlags) => {
      const config = resolveServeConfig(flags)
      // Everything serve creates (the SQLite files among them) is readable by this user only.
      process.umask(0o077)
      const logger = createLogger({ format: config.logFormat })
      const progress = createProgress({ silent: config.logFormat === 'json' })
      progress.step('Starting the authorization server and the demo MCP server')
      let runtime: Awaited<ReturnType<typeof startServe>>
      try {
        runtime = await startServe(config, logger)
      } catch (error) {
        progress.done()
        throw error
      }
      progress.done()
      const login =
        runtime.account !== undefined
          ? `username: ${runtime.account.username}\npassword: ${runtime.account.password}\n`
          : runtime.upstream !== undefined
            ? `upstream: ${runtime.upstream.name}\ncallback: ${runtime.upstream.callbackUrl}\n`
            : ''
      process.stdout.write(`issuer: ${runtime.issuer}\nmcp: ${runtime.mcpUrl}\n${login}`)
      logger.log('info', 'listening', {
        issuer: runtime.issuer,
        mcp: runtime.mcpUrl,
        health: runtime.healthUrl,
        store: runtime.storeKind,
        data_dir: runtime.dataDir,
      })
      if (config.logFormat === 'text' && runtime.upstream !== undefined) {
        process.stderr.write(
          `${pc.dim(`Users log in with ${runtime.upstream.name}; register this redirect URI there:`)} ${runtime.upstream.callbackUrl}\n${pc.dim('Press Ctrl+C to stop.')}\n`,
        )
      } else if (config.logFormat === 'text') {
        process.stderr.write(
          `${pc.dim(`The demo account is kept in ${runtime.dataDir}/demo-account.json. Check the deployment with:`)}\n  portcullis doctor ${runtime.mcpUrl}\n${pc.dim('Press Ctrl+C to stop.')}\n`,
        )
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: NodeJS.Signals) => {
          logger.log('info', 'shutdown', { signal })
          process.once(signal, () => process.exit(1)) // a second signal does not wait
          runtime.close().then(resolve, (error: unknown) => {
            logger.log('error', 'shutdown.failed', { message: (error as Error).message })
            process.exitCode = 1
            resolve()
          })
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
    })
}
