import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createMcpAuthClient, type StoredTokens } from '../../../src/client/index.js'
import { createFileCredentialStore, withFileLock } from '../../../src/node/index.js'
import { headlessRedirect, startFakeServer } from '../../client/support.js'

const dirs: string[] = []
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-store-'))
  dirs.push(dir)
  return dir
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

const tokens: StoredTokens = {
  issuer: 'https://as.example',
  resource: 'https://mcp.example/mcp',
  access_token: 'secret-access-token-value',
  refresh_token: 'secret-refresh-token-value',
  token_type: 'Bearer',
}

describe('S3: modes', () => {
  it('directory 0700 and files 0600, also when they existed with wider modes', async () => {
    const directory = join(await tempDir(), 'store')
    const first = await createFileCredentialStore({ directory, keychain: false })
    await first.setTokens(tokens)
    const [name] = (await readdir(directory)).filter((n) => n.startsWith('tokens-'))
    await chmod(join(directory, name!), 0o644)
    await chmod(join(directory, 'store.key'), 0o644)
    await chmod(directory, 0o755)

    const second = await createFileCredentialStore({ directory, keychain: false })
    expect((await stat(directory)).mode & 0o777).toBe(0o700)
    for (const entry of await readdir(directory, { withFileTypes: true })) {
      if (entry.isFile()) expect((await stat(join(directory, entry.name))).mode & 0o777).toBe(0o600)
    }
    await second.setTokens({ ...tokens, access_token: 'rotated' })
    expect((await stat(join(directory, name!))).mode & 0o777).toBe(0o600)
    expect((await second.getTokens(tokens.issuer, tokens.resource))?.access_token).toBe('rotated')
  })
})

describe('encryption at rest', () => {
  it('stores ciphertext only; a file moved to another slot does not decrypt', async () => {
    const directory = await tempDir()
    const store = await createFileCredentialStore({ directory, keychain: false })
    expect(store.keySource).toBe('file')
    await store.setTokens(tokens)
    await store.setTokens({ ...tokens, resource: 'https://other.example/mcp' })
    const files = (await readdir(directory)).filter((n) => n.startsWith('tokens-'))
    expect(files).toHaveLength(2)
    for (const file of files) {
      const text = await readFile(join(directory, file), 'utf8')
      expect(text).not.toContain('secret-')
      expect(text).not.toContain('as.example')
    }
    // Swap the two ciphertexts: AES-GCM's additional data binds each to its (issuer, resource).
    const [a, b] = files as [string, string]
    const ta = await readFile(join(directory, a), 'utf8')
    await writeFile(join(directory, a), await readFile(join(directory, b), 'utf8'))
    await writeFile(join(directory, b), ta)
    expect(await store.getTokens(tokens.issuer, tokens.resource)).toBeUndefined()
  })

  it('falls back to a 0600 key file when the OS keychain is unavailable', async () => {
    const directory = await tempDir()
    const store = await createFileCredentialStore({
      directory,
      keychain: { service: 'portcullis-test', account: `probe-${process.pid}` },
    })
    await store.setClient({
      issuer: 'https://as',
      client_id: 'c',
      token_endpoint_auth_method: 'none',
      source: 'dynamic',
    })
    expect((await store.getClient('https://as'))?.client_id).toBe('c')
    if (store.keySource === 'file') {
      expect((await stat(join(directory, 'store.key'))).mode & 0o777).toBe(0o600)
    }
  })
})

describe('withFileLock', () => {
  it('serializes holders and takes over a lock whose owner is gone', async () => {
    const directory = await tempDir()
    const path = join(directory, 'x.lock')
    const order: string[] = []
    await Promise.all([
      withFileLock(path, async () => {
        order.push('a-in')
        await new Promise((r) => setTimeout(r, 50))
        order.push('a-out')
      }),
      withFileLock(path, async () => {
        order.push('b-in')
        order.push('b-out')
      }),
    ])
    expect(order.join(',')).toMatch(/^(a-in,a-out,b-in,b-out|b-in,b-out,a-in,a-out)$/)
    // A stale lock from a dead process (pid 2^22 + 1 is beyond Linux's pid_max default).
    await writeFile(path, `${2 ** 22 + 1}\n${Date.now()}\n`)
    expect(await withFileLock(path, async () => 'taken', { timeoutMs: 2000 })).toBe('taken')
  })
})

function runChild(directory: string, serverUrl: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'fixtures', 'refresh-child.ts'), directory, serverUrl],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    child.stdout.on('data', (d) => {
      out += d
    })
    child.stderr.on('data', (d) => {
      err += d
    })
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(err))))
  })
}

describe('S21: two processes sharing the file store', () => {
  it('refresh an expired token with exactly one token request', async () => {
    const server = await startFakeServer({ expiresIn: 1, tokenDelayMs: 300 })
    try {
      const directory = await tempDir()
      const store = await createFileCredentialStore({ directory, keychain: false })
      const client = createMcpAuthClient({
        credentialStore: store,
        redirect: headlessRedirect(),
        allowInsecureLoopback: true,
      })
      await client.login(server.mcpUrl)
      server.options.expiresIn = 3600
      const results = await Promise.all([
        runChild(directory, server.mcpUrl),
        runChild(directory, server.mcpUrl),
      ])
      expect(results.map((r) => JSON.parse(r))).toEqual([{ ok: true }, { ok: true }])
      expect(server.count('/token', 'refresh_token')).toBe(1)
    } finally {
      await server.close()
    }
  }, 60_000)
})
