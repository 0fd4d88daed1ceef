import { describe, expect, it } from 'vitest'
import { cliClientOptions, clientMetadataUrlOf } from '../../../src/cli/client/auth-client.js'
import { CliError } from '../../../src/cli/errors.js'
import type { Progress } from '../../../src/cli/progress.js'

const progress: Progress = { step() {}, done() {}, fail() {} }
const CIMD = 'https://app.example.com/oauth/client.json'

describe('the client the commands build', () => {
  it('takes --client-metadata-url as the Client ID Metadata Document URL of the client', () => {
    const options = cliClientOptions({
      mcpUrl: 'https://mcp.example.com/mcp',
      flags: { clientMetadataUrl: CIMD },
      progress,
    })
    expect(options.clientMetadataUrl).toBe(CIMD)
    expect(options.allowInsecureLoopback).toBe(false)
    const without = cliClientOptions({ mcpUrl: 'http://127.0.0.1:8787/mcp', flags: {}, progress })
    expect('clientMetadataUrl' in without).toBe(false)
    expect(without.allowInsecureLoopback).toBe(true)
  })

  it.each([
    ['http://app.example.com/oauth/client.json', 'not https'],
    ['https://app.example.com', 'no path'],
    ['https://app.example.com/', 'the root path'],
    ['https://app.example.com/client.json#x', 'a fragment'],
    ['https://app.example.com/client.json?v=1', 'a query'],
    ['https://user@app.example.com/client.json', 'user info'],
    ['https://app.example.com/a/../client.json', 'a dot segment'],
    ['client.json', 'not a URL'],
  ])('refuses %s (%s) as a usage error with the fix', (url) => {
    let error: unknown
    try {
      clientMetadataUrlOf({ clientMetadataUrl: url })
    } catch (caught) {
      error = caught
    }
    expect(error).toBeInstanceOf(CliError)
    expect(error).toMatchObject({ code: 'ERR_USAGE', exitCode: 2 })
    expect((error as CliError).message).toContain('--client-metadata-url must be an https URL with a path')
    expect((error as CliError).fix).toContain('its client_id must be that same URL')
    expect(() =>
      cliClientOptions({
        mcpUrl: 'https://mcp.example.com/mcp',
        flags: { clientMetadataUrl: url },
        progress,
      }),
    ).toThrow(CliError)
  })
})
