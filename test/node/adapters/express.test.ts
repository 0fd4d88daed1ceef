import type { AddressInfo } from 'node:net'
import express from 'express'
import { describe, expect, it } from 'vitest'
import { expressAuth, expressMetadata } from '../../../src/node/adapters/express.js'
import { jwtVerifier, protectedResource } from '../../../src/resource-server/index.js'
import { createSigner, ISSUER, toolCall } from '../../resource-server/support.js'

describe('Express middleware', () => {
  for (const withJsonParser of [true, false]) {
    it(`sets req.auth (SDK v1 shape) and res.locals.portcullis ${withJsonParser ? 'after' : 'without'} express.json()`, async () => {
      const signer = await createSigner()
      const app = express()
      const server = app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
      const resource = `${origin}/mcp`
      const rs = protectedResource({
        resource,
        authorizationServers: [ISSUER],
        verifier: jwtVerifier({ issuer: ISSUER, audience: resource, jwks: signer.jwks }),
        scopes: { default: ['files:read'], tools: { delete_file: ['files:write'] } },
      })
      app.use(expressMetadata(rs))
      const chain = withJsonParser ? [express.json(), expressAuth(rs)] : [expressAuth(rs)]
      app.post('/mcp', ...chain, (req, res) => {
        const auth = (
          req as unknown as { auth: { clientId: string; resource: URL; extra: { subject: string } } }
        ).auth
        res.json({
          clientId: auth.clientId,
          resource: auth.resource.href,
          subject: auth.extra.subject,
          ours: (res.locals as { portcullis?: { auth: { subject?: string } } }).portcullis?.auth.subject,
          body: req.body,
        })
      })
      try {
        const prm = await fetch(`${origin}/.well-known/oauth-protected-resource/mcp`)
        expect(prm.status).toBe(200)
        expect(((await prm.json()) as { resource: string }).resource).toBe(resource)

        const token = await signer.sign({ aud: resource, sub: 'erin' })
        const ok = await fetch(resource, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(toolCall('read_file')),
        })
        expect(ok.status).toBe(200)
        expect(await ok.json()).toEqual({
          clientId: 'client-1',
          resource,
          subject: 'erin',
          ours: 'erin',
          body: toolCall('read_file'),
        })
        const denied = await fetch(resource, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify(toolCall('delete_file')),
        })
        expect(denied.status).toBe(403)
        expect(denied.headers.get('www-authenticate')).toContain('scope="files:read files:write"')
      } finally {
        server.closeAllConnections()
        await new Promise((resolve) => server.close(resolve))
      }
    })
  }
})
