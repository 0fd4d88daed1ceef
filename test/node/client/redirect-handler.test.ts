import { describe, expect, it } from 'vitest'
import { createMcpAuthClient } from '../../../src/client/index.js'
import { createLoopbackRedirectHandler } from '../../../src/node/index.js'
import { startFakeServer } from '../../client/support.js'

describe('S1: dangerous authorization URLs never reach the opener', () => {
  it.each([
    'a:$(calc)',
    'file:///etc/passwd',
    'javascript:alert(1)',
    'ms-msdt:/id PCWDiagnostic',
    'https://x.example/\n$(id)',
  ])('refuses %j', async (url) => {
    const opened: string[] = []
    const handler = createLoopbackRedirectHandler({
      opener: async (u) => void opened.push(u),
      timeoutMs: 1000,
    })
    const session = await handler.start()
    await expect(session.authorize(url, 'state')).rejects.toBeDefined()
    await session.close()
    expect(opened).toEqual([])
  })

  it('in the whole flow, metadata with such an endpoint is refused before the browser step', async () => {
    for (const endpoint of ['a:$(calc)', 'file:///etc/passwd', 'javascript:alert(1)']) {
      const server = await startFakeServer({ metadata: { authorization_endpoint: endpoint } })
      const opened: string[] = []
      const client = createMcpAuthClient({
        allowInsecureLoopback: true,
        redirect: createLoopbackRedirectHandler({
          opener: async (u) => void opened.push(u),
          timeoutMs: 1000,
        }),
      })
      await expect(client.fetch(server.mcpUrl, { method: 'POST', body: '{}' })).rejects.toBeDefined()
      expect(opened).toEqual([])
      await server.close()
    }
  })

  it('a real login goes through the loopback receiver: the opener gets the checked URL', async () => {
    const server = await startFakeServer()
    const opened: string[] = []
    const client = createMcpAuthClient({
      allowInsecureLoopback: true,
      redirect: createLoopbackRedirectHandler({
        timeoutMs: 5000,
        opener: async (url) => {
          opened.push(url)
          await (await fetch(url)).arrayBuffer()
        },
      }),
    })
    const response = await client.fetch(server.mcpUrl, { method: 'POST', body: '{}' })
    expect(response.status).toBe(200)
    expect(opened).toHaveLength(1)
    const redirectUri = new URL(opened[0]!).searchParams.get('redirect_uri')!
    expect(redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/)
    await server.close()
  })

  it('without a browser the URL is handed to onUrl and the login keeps waiting', async () => {
    const server = await startFakeServer()
    const client = createMcpAuthClient({
      allowInsecureLoopback: true,
      redirect: createLoopbackRedirectHandler({
        timeoutMs: 5000,
        opener: async () => {
          throw new Error('no display')
        },
        // The "user" opens the printed URL by hand.
        onUrl: (url) => void fetch(url).then((r) => r.arrayBuffer()),
      }),
    })
    expect((await client.fetch(server.mcpUrl, { method: 'POST', body: '{}' })).status).toBe(200)
    await server.close()
  })
})
