import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CliError } from '../../../src/cli/errors.js'
import { resolveServeConfig } from '../../../src/cli/serve/config.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'portcullis-config-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

describe('resolveServeConfig', () => {
  it('uses the defaults for a newcomer', () => {
    expect(resolveServeConfig({})).toEqual({
      port: 8787,
      host: '127.0.0.1',
      dataDir: '.portcullis',
      logFormat: 'text',
    })
  })

  it('reads a JSON config file and lets flags win', () => {
    const file = join(dir, 'serve.json')
    writeFileSync(
      file,
      JSON.stringify({ port: 9000, issuer: 'https://auth.example.com/', logFormat: 'json' }),
    )
    expect(resolveServeConfig({ config: file, port: '9100' })).toEqual({
      port: 9100,
      host: '127.0.0.1',
      dataDir: '.portcullis',
      logFormat: 'json',
      issuer: 'https://auth.example.com',
    })
  })

  it('refuses unknown keys, bad values and unreadable files with a fix', () => {
    const file = join(dir, 'serve.json')
    writeFileSync(file, JSON.stringify({ prot: 9000 }))
    expect(() => resolveServeConfig({ config: file })).toThrow(CliError)
    writeFileSync(file, JSON.stringify({ issuer: 'ftp://x' }))
    expect(() => resolveServeConfig({ config: file })).toThrow(/issuer/)
    expect(() => resolveServeConfig({ config: join(dir, 'missing.json') })).toThrow(
      /cannot read the config file/,
    )
    expect(() => resolveServeConfig({ logFormat: 'xml' })).toThrow(/--log-format/)
    expect(() => resolveServeConfig({ port: '70000' })).toThrow(/--port/)
  })
})
