/**
 * The options every client command (`connect`, `token`, `logout`) takes.
 *
 * @module
 */
import type { Command } from 'commander'

/** Adds the shared client options to `command`. */
export function withClientOptions(command: Command): Command {
  return command
    .option(
      '--credentials-dir <dir>',
      'where credentials are kept, encrypted (default ~/.portcullis/credentials or $PORTCULLIS_CREDENTIALS_DIR)',
    )
    .option(
      '--no-keychain',
      'keep the encryption key in a file in the credentials directory, not the OS keychain',
    )
    .option('--no-browser', 'print the login URL instead of opening a browser')
    .option(
      '--allow-http-loopback',
      'allow http to 127.0.0.1, [::1] and localhost (default: on for a loopback <mcp-url>)',
    )
    .option('--no-allow-http-loopback', 'never allow http, even for a loopback <mcp-url>')
}
