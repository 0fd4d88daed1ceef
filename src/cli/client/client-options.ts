/**
 * The options every client command (`connect`, `token`, `logout`, `bridge`) takes, and those of
 * the browser login alone (`doctor --login`).
 *
 * @module
 */
import type { Command } from 'commander'

/** Adds the options of the browser login to `command`: `--no-browser`, `--client-metadata-url`. */
export function withLoginOptions(command: Command): Command {
  return command
    .option('--no-browser', 'print the login URL instead of opening a browser')
    .option(
      '--client-metadata-url <url>',
      'use this Client ID Metadata Document (an https URL with a path) as the client id where the authorization server supports it, instead of registering',
    )
}

/** Adds the shared client options to `command`. */
export function withClientOptions(command: Command): Command {
  return withLoginOptions(
    command
      .option(
        '--credentials-dir <dir>',
        'where credentials are kept, encrypted (default ~/.portcullis/credentials or $PORTCULLIS_CREDENTIALS_DIR)',
      )
      .option(
        '--no-keychain',
        'keep the encryption key in a file in the credentials directory, not the OS keychain',
      ),
  )
    .option(
      '--allow-http-loopback',
      'allow http to 127.0.0.1, [::1] and localhost (default: on for a loopback <mcp-url>)',
    )
    .option('--no-allow-http-loopback', 'never allow http, even for a loopback <mcp-url>')
}
