/**
 * The official MCP conformance suite's `authorization` command (0.2.0-alpha.12) against our
 * authorization server, headless: the CLI prints the authorization URL, and this test plays the
 * browser (login form, consent form, then the redirect to the CLI's callback on 127.0.0.1).
 * Both scenarios must pass with no warnings.
 */
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { browserAuthorize, startAuthorizationServer } from '../interop/as-server.js'

const ROOT = join(import.meta.dirname, '../..')
const CLI = join(ROOT, 'node_modules/@modelcontextprotocol/conformance/dist/index.js')
const REGISTER = join(import.meta.dirname, 'node20-register.mjs')

async function freePort(): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}

describe('conformance authorization (authorization-server scenarios)', () => {
  it('passes authorization-server-metadata-endpoint and authorization-code-grant with no warnings', async () => {
    const callbackPort = await freePort()
    const resource = 'http://127.0.0.1:9/mcp'
    const running = await startAuthorizationServer(() => ({
      resources: [{ uri: resource, scopes: { 'mcp:tools': 'Use the tools' } }],
      defaultResource: resource,
      clients: [
        {
          client_id: 'conformance-client',
          client_name: 'MCP conformance suite',
          redirect_uris: [`http://127.0.0.1:${callbackPort}/callback`],
          token_endpoint_auth_method: 'none',
        },
      ],
    }))
    const out = mkdtempSync(join(tmpdir(), 'portcullis-conformance-'))
    try {
      const child = spawn(
        process.execPath,
        [
          '--import',
          REGISTER,
          CLI,
          'authorization',
          '--url',
          running.issuer,
          '--client-id',
          'conformance-client',
          '-p',
          String(callbackPort),
          '--resource',
          resource,
          '-o',
          out,
        ],
        { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
      )
      let stdout = ''
      let stderr = ''
      let browsing: Promise<void> | undefined
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString()
      })
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString()
        const match = new RegExp(
          `^(${running.issuer.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/authorize\\?\\S+)$`,
          'm',
        ).exec(stdout)
        if (match !== null && browsing === undefined) {
          browsing = (async () => {
            const callback = await browserAuthorize(match[1]!)
            // The browser follows the AS's redirect to the CLI's loopback callback.
            const delivered = await fetch(callback, { redirect: 'manual' })
            await delivered.text()
          })()
        }
      })
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      await browsing
      const output = `${stdout}\n${stderr}`
      expect(browsing, output).toBeDefined()
      expect(code, output).toBe(0)
      // The metadata scenario has two checks (the endpoint, and the CIMD advertisement, which would be a WARNING).
      expect(output).toMatch(/✓ authorization-server-metadata-endpoint: 2 passed, 0 failed/)
      expect(output).toMatch(/✓ authorization-code-grant: 1 passed, 0 failed/)
      expect(output).toMatch(/Total: 3 passed, 0 failed/)
      expect(output).not.toMatch(/WARNING/)
    } finally {
      rmSync(out, { recursive: true, force: true })
      await running.close()
    }
  }, 120_000)
})
