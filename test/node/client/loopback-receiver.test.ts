import { request } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, expect, it } from 'vitest'
import { createLoopbackReceiver } from '../../../src/node/index.js'

/** A raw GET with a chosen Host header (fetch does not let us forge Host). */
function get(
  port: number,
  path: string,
  host: string,
  address = '127.0.0.1',
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: address, port, path, method: 'GET', headers: { host } }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => {
        body += c
      })
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    })
    req.on('error', reject)
    req.end()
  })
}

describe('S2: the receiver listens on loopback only', () => {
  it('binds 127.0.0.1 by default and ::1 when asked, never a wildcard', async () => {
    const v4 = await createLoopbackReceiver()
    const a4 = v4.server.address() as AddressInfo
    expect(a4.address).toBe('127.0.0.1')
    expect(v4.redirectUri).toBe(`http://127.0.0.1:${a4.port}/callback`)
    await v4.close()

    const v6 = await createLoopbackReceiver({ host: '::1' }).catch(() => undefined)
    if (v6 !== undefined) {
      // Hosts without IPv6 cannot bind ::1; where they can, it must be ::1 exactly.
      const a6 = v6.server.address() as AddressInfo
      expect(a6.address).toBe('::1')
      expect(v6.redirectUri).toBe(`http://[::1]:${a6.port}/callback`)
      await v6.close()
    }
    await expect(createLoopbackReceiver({ host: '0.0.0.0' as never })).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
    })
  })
})

describe('S4: only the pending login state is accepted', () => {
  it('refuses wrong and missing state, keeps waiting, then accepts the real callback once', async () => {
    const receiver = await createLoopbackReceiver({ timeoutMs: 10_000 })
    const port = (receiver.server.address() as AddressInfo).port
    const host = `127.0.0.1:${port}`
    const pending = receiver.waitForCallback('the-state')
    let settled = false
    void pending.then(() => {
      settled = true
    })

    expect((await get(port, '/callback?code=evil&state=wrong', host)).status).toBe(400)
    expect((await get(port, '/callback?code=evil', host)).status).toBe(400)
    expect((await get(port, '/callback?code=evil&state=the-state&state=the-state', host)).status).toBe(400)
    // No side endpoints.
    expect((await get(port, '/wait-for-auth', host)).status).toBe(404)
    expect((await get(port, '/', host)).status).toBe(404)
    // DNS rebinding: a foreign Host is refused even with the right state.
    expect((await get(port, '/callback?code=evil&state=the-state', 'evil.example')).status).toBe(400)
    expect(settled).toBe(false)

    const ok = await get(port, '/callback?code=good&state=the-state', host)
    expect(ok.status).toBe(200)
    expect(ok.body).toContain('You can close this window')
    const params = await pending
    expect(params.get('code')).toBe('good')
    await receiver.close()
  })

  it('shows a failure page for an error response, without echoing it', async () => {
    const receiver = await createLoopbackReceiver({ timeoutMs: 10_000 })
    const port = (receiver.server.address() as AddressInfo).port
    const pending = receiver.waitForCallback('s')
    const page = await get(
      port,
      '/callback?state=s&error=access_denied&error_description=%3Cscript%3E',
      `127.0.0.1:${port}`,
    )
    expect(page.body).toContain('Login not completed')
    expect(page.body).not.toContain('<script>')
    expect((await pending).get('error')).toBe('access_denied')
    await receiver.close()
  })

  it('times out with ERR_REDIRECT', async () => {
    const receiver = await createLoopbackReceiver({ timeoutMs: 50 })
    await expect(receiver.waitForCallback('s')).rejects.toMatchObject({ code: 'ERR_REDIRECT' })
    await receiver.close()
  })
})
