import { describe, expect, it } from 'vitest'
import { start as startV1 } from '../../examples/sdk-v1-express/server.js'
import { start as startV2 } from '../../examples/sdk-v2-hono/server.js'
import { findBearerChallenge, parseWwwAuthenticate } from '../../src/protocol/www-authenticate.js'
import { createSigner, ISSUER, mcpHeaders, readMessages, toolCall } from '../resource-server/support.js'

const signer = await createSigner()

for (const [name, start] of [
  ['SDK v1 on Express', startV1],
  ['SDK v2 on Hono', startV2],
] as const) {
  describe(`example: ${name}`, () => {
    const withServer = async (fn: (url: string) => Promise<void>) => {
      const server = await start({ port: 0, issuer: ISSUER, jwks: signer.jwks })
      try {
        await fn(server.url)
      } finally {
        await server.close()
      }
    }

    it('answers a request without a token with 401 and a discoverable resource_metadata', async () => {
      await withServer(async (url) => {
        const response = await fetch(url, {
          method: 'POST',
          headers: mcpHeaders(),
          body: JSON.stringify(toolCall('read_file')),
        })
        expect(response.status).toBe(401)
        const challenge = findBearerChallenge(parseWwwAuthenticate(response.headers))
        expect(challenge?.error).toBeUndefined()
        expect(challenge?.scope).toBe('files:read')
        const prmUrl = challenge?.resource_metadata
        expect(prmUrl).toBe(url.replace('/mcp', '/.well-known/oauth-protected-resource/mcp'))

        const prm = await fetch(prmUrl!)
        expect(prm.status).toBe(200)
        expect(prm.headers.get('access-control-allow-origin')).toBe('*')
        const doc = (await prm.json()) as Record<string, unknown>
        expect(doc['resource']).toBe(url)
        expect(doc['authorization_servers']).toEqual([ISSUER])
        expect(doc['scopes_supported']).toEqual(['files:read'])
      })
    })

    it('runs read_file with files:read and hands the tool the verified subject', async () => {
      await withServer(async (url) => {
        const token = await signer.sign({ aud: url, sub: 'alice', scope: 'files:read' })
        const response = await fetch(url, {
          method: 'POST',
          headers: mcpHeaders(token),
          body: JSON.stringify(toolCall('read_file', 7)),
        })
        expect(response.status).toBe(200)
        const [message] = (await readMessages(response)) as {
          id: number
          result: { content: { text: string }[] }
        }[]
        expect(message?.id).toBe(7)
        expect(message?.result.content[0]?.text).toBe('read /tmp/a.txt for alice')
      })
    })

    it('refuses delete_file with files:read: 403 insufficient_scope naming every scope it needs', async () => {
      await withServer(async (url) => {
        const token = await signer.sign({ aud: url, scope: 'files:read' })
        const response = await fetch(url, {
          method: 'POST',
          headers: mcpHeaders(token),
          body: JSON.stringify(toolCall('delete_file')),
        })
        expect(response.status).toBe(403)
        const challenge = findBearerChallenge(parseWwwAuthenticate(response.headers))
        expect(challenge?.error).toBe('insufficient_scope')
        expect(challenge?.scope).toBe('files:read files:write')
        expect(challenge?.resource_metadata).toContain('/.well-known/oauth-protected-resource/mcp')
      })
    })

    it('runs delete_file with files:write alone, since files:write implies files:read', async () => {
      await withServer(async (url) => {
        const token = await signer.sign({ aud: url, sub: 'bob', scope: 'files:write' })
        const response = await fetch(url, {
          method: 'POST',
          headers: mcpHeaders(token),
          body: JSON.stringify(toolCall('delete_file')),
        })
        expect(response.status).toBe(200)
        const [message] = (await readMessages(response)) as { result: { content: { text: string }[] } }[]
        expect(message?.result.content[0]?.text).toBe('deleted /tmp/a.txt for bob')
      })
    })

    it('refuses a token minted for another resource with 401 invalid_token', async () => {
      await withServer(async (url) => {
        const token = await signer.sign({
          aud: 'https://other.example.com/mcp',
          scope: 'files:read files:write',
        })
        const response = await fetch(url, {
          method: 'POST',
          headers: mcpHeaders(token),
          body: JSON.stringify(toolCall('read_file')),
        })
        expect(response.status).toBe(401)
        const challenge = findBearerChallenge(parseWwwAuthenticate(response.headers))
        expect(challenge?.error).toBe('invalid_token')
        expect(response.headers.get('www-authenticate')).not.toContain(token)
      })
    })
  })
}
