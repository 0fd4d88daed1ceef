/**
 * What the SDK v1 (Express) and SDK v2 (Hono) example servers share: the two file tools and their
 * scopes, the protected resource in front of them, and the command line. Each example wires these
 * into its own SDK and framework.
 *
 *   read_file    needs files:read
 *   delete_file  needs files:write (which implies files:read)
 */

import { pathToFileURL } from 'node:url'
import type { JSONWebKeySet } from 'jose'
import { z } from 'zod'
import { jwtVerifier, protectedResource } from '../../src/node/index.js'
import type { ProtectedResource, ScopePolicy, Verifier } from '../../src/resource-server/index.js'

/** Options of each example's `start`. */
export interface StartOptions {
  /** Port on 127.0.0.1; 0 picks a free one. */
  port: number
  /** The authorization server's issuer identifier. */
  issuer: string
  /** A local JWK Set (else the keys are read from the issuer's metadata). */
  jwks?: JSONWebKeySet
  /** A ready verifier, built from the resource URL once the port is known. */
  verifier?: (resource: string) => Verifier
}

/** A started example: its MCP endpoint URL and how to stop it. */
export interface StartedServer {
  url: string
  close: () => Promise<void>
}

/** The scopes of the file tools: read by default, write to delete. */
export const scopePolicy: ScopePolicy = {
  default: ['files:read'],
  tools: { delete_file: ['files:write'] },
  hierarchy: { 'files:write': ['files:read'] },
}

/** The input of every file tool, as a zod shape (SDK v1 takes it as is, SDK v2 as `z.object`). */
export const pathInput = { path: z.string() }

/** The file tools. Each answers with what it did, and for whom: the subject of the verified token. */
export const tools = [
  { name: 'read_file', description: 'Reads a file', verb: 'read' },
  { name: 'delete_file', description: 'Deletes a file', verb: 'deleted' },
] as const

/** A file tool's answer; `authInfo` is what the SDK hands the tool from the verified token. */
export function toolResult(
  tool: (typeof tools)[number],
  path: string,
  authInfo: { extra?: Record<string, unknown> } | undefined,
) {
  return {
    content: [
      { type: 'text' as const, text: `${tool.verb} ${path} for ${String(authInfo?.extra?.['subject'])}` },
    ],
  }
}

/**
 * The protected resource for the MCP endpoint `resource`: its metadata names `options.issuer`,
 * and tokens must come from that issuer with `resource` as their audience.
 */
export function resourceServer(
  options: StartOptions,
  resource: string,
  resourceName: string,
): ProtectedResource {
  return protectedResource({
    resource,
    authorizationServers: [options.issuer],
    verifier:
      options.verifier?.(resource) ??
      jwtVerifier({
        issuer: options.issuer,
        audience: resource,
        ...(options.jwks === undefined ? {} : { jwks: options.jwks }),
      }),
    scopes: scopePolicy,
    resourceName,
  })
}

/**
 * Starts the example when its file is the one run (`npx tsx examples/<name>/server.ts`), with the
 * issuer from `ISSUER` and the port from `PORT` (default 3000).
 */
export async function runIfMain(
  moduleUrl: string,
  start: (options: StartOptions) => Promise<StartedServer>,
  label: string,
): Promise<void> {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return
  const issuer = process.env['ISSUER']
  if (issuer === undefined) throw new Error('set ISSUER to the authorization server issuer')
  const { url } = await start({ port: Number(process.env['PORT'] ?? 3000), issuer })
  console.log(`MCP server (${label}) at ${url}`)
}
