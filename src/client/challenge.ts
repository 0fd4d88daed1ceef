/**
 * Reading a protected resource's answer: what a `401` or `403` asks the client to do next.
 *
 * @see [MCP Authorization: Authorization Server Discovery](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#authorization-server-discovery)
 * @module
 */

import { type ParsedChallenge, parseWwwAuthenticate } from '../protocol/www-authenticate.js'

/** The parameters of the `Bearer` or `DPoP` challenge that matter to the client. */
export interface ResourceChallenge {
  /** `bearer` or `dpop`: the scheme the parameters were read from. */
  scheme: 'bearer' | 'dpop' | undefined
  /** Every scheme offered, lower-cased. */
  schemes: string[]
  resource_metadata?: string
  scope?: string
  error?: string
}

/**
 * What the client does with a response:
 *
 * - `ok`: nothing, the response goes back to the caller.
 * - `authorize`: no usable token; discover and obtain one (`401`).
 * - `refresh`: a token was sent and refused (`401`); refresh it, or authorize again.
 * - `dpop-nonce`: the resource wants a DPoP proof with its nonce (RFC 9449 §9); retry once.
 * - `step-up`: `403 insufficient_scope`; authorize again with more scopes (RFC 6750 §3.1).
 * - `forbidden`: any other `403`; report it, do not loop.
 */
export type ChallengeAction = 'ok' | 'authorize' | 'refresh' | 'dpop-nonce' | 'step-up' | 'forbidden'

/** The outcome of {@link interpretChallenge}. */
export interface InterpretedChallenge {
  action: ChallengeAction
  challenge: ResourceChallenge
}

function pick(challenge: ParsedChallenge | undefined): Record<string, string> {
  const out = Object.create(null) as Record<string, string>
  if (challenge === undefined) return out
  for (const [name, value] of Object.entries(challenge.params)) {
    const key = name.toLowerCase()
    if (!Object.hasOwn(out, key)) out[key] = value
  }
  return out
}

/**
 * Reads every `WWW-Authenticate` challenge of a response (several headers, several challenges per
 * header) and picks the `Bearer` one, else the `DPoP` one. A header that does not parse counts as
 * absent: the client then falls back to well-known discovery (RFC 9728 §3).
 *
 * @see [RFC 9110 §11.6.1](https://www.rfc-editor.org/rfc/rfc9110#section-11.6.1)
 * @see [RFC 6750 §3](https://www.rfc-editor.org/rfc/rfc6750#section-3)
 * @see [RFC 9449 §7.1](https://www.rfc-editor.org/rfc/rfc9449#section-7.1) the `DPoP` scheme
 */
export function readResourceChallenge(headers: Headers): ResourceChallenge {
  let challenges: ParsedChallenge[] = []
  try {
    if (headers.has('www-authenticate')) challenges = parseWwwAuthenticate(headers)
  } catch {
    challenges = []
  }
  const bearer = challenges.find((c) => c.normalizedScheme === 'bearer')
  const dpop = challenges.find((c) => c.normalizedScheme === 'dpop')
  const chosen = bearer ?? dpop
  const params = pick(chosen)
  const result: ResourceChallenge = {
    scheme: chosen === undefined ? undefined : chosen === bearer ? 'bearer' : 'dpop',
    schemes: challenges.map((c) => c.normalizedScheme),
  }
  // A DPoP nonce error may come in a DPoP challenge next to a Bearer one.
  const dpopParams = pick(dpop)
  if (params['resource_metadata'] !== undefined) result.resource_metadata = params['resource_metadata']
  else if (dpopParams['resource_metadata'] !== undefined)
    result.resource_metadata = dpopParams['resource_metadata']
  if (params['scope'] !== undefined) result.scope = params['scope']
  if (params['error'] !== undefined) result.error = params['error']
  if (dpopParams['error'] === 'use_dpop_nonce') result.error = 'use_dpop_nonce'
  return result
}

/**
 * Decides the client's next step from a protected resource's response and whether a token was
 * sent with the request.
 *
 * @see [MCP Authorization: Scope Challenge Handling](https://modelcontextprotocol.io/specification/2025-11-25/basic/authorization#scope-challenge-handling)
 * @see [RFC 6750 §3.1](https://www.rfc-editor.org/rfc/rfc6750#section-3.1) `invalid_token` (401), `insufficient_scope` (403)
 * @see [RFC 9449 §9](https://www.rfc-editor.org/rfc/rfc9449#section-9) resource server nonce
 */
export function interpretChallenge(response: Response, tokenSent: boolean): InterpretedChallenge {
  if (response.status !== 401 && response.status !== 403) {
    return { action: 'ok', challenge: { scheme: undefined, schemes: [] } }
  }
  const challenge = readResourceChallenge(response.headers)
  if (response.status === 401) {
    if (tokenSent && challenge.error === 'use_dpop_nonce' && response.headers.has('dpop-nonce')) {
      return { action: 'dpop-nonce', challenge }
    }
    return { action: tokenSent ? 'refresh' : 'authorize', challenge }
  }
  if (challenge.error === 'insufficient_scope') return { action: 'step-up', challenge }
  return { action: 'forbidden', challenge }
}
