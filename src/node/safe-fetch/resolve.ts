/**
 * Name resolution for outbound requests: every answer is classified before any connection.
 *
 * @module
 */

import { lookup as dnsLookup } from 'node:dns/promises'
import { NetworkPolicyError } from '../errors.js'
import { type AddressClassification, classifyAddress } from './address-policy.js'
import { assertAddressAllowed, type CheckedTarget } from './host-policy.js'

/** One answer of a resolver. */
export interface ResolvedAddress {
  address: string
  family: 4 | 6
}

/**
 * Resolves a host name to its addresses. Replaceable so that tests (and deployments with their own
 * resolver) can decide the answers; the answers are checked the same way whatever their source.
 */
export type Resolver = (hostname: string) => Promise<readonly ResolvedAddress[]>

/** The operating system's resolver (`getaddrinfo`), every address, in the order it returns them. */
export const systemResolver: Resolver = async (hostname) => {
  const answers = await dnsLookup(hostname, { all: true, verbatim: true })
  return answers.map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }))
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason)
    signal.addEventListener('abort', onAbort, { once: true })
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort)
        resolve(value)
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort)
        reject(error)
      },
    )
  })
}

/**
 * The addresses a checked target may be connected to. An IP-literal host is its own answer.
 * Otherwise the name is resolved once and EVERY answer must pass: one private answer among
 * public ones refuses the request, so the choice of address can never be steered to it.
 */
export async function resolveTarget(
  target: CheckedTarget,
  resolver: Resolver,
  allowLoopback: boolean,
  signal: AbortSignal,
): Promise<AddressClassification[]> {
  if (target.literal !== undefined) return [target.literal]
  let answers: readonly ResolvedAddress[]
  try {
    answers = await abortable(resolver(target.host), signal)
  } catch (error) {
    if (signal.aborted) throw signal.reason
    const code = (error as { code?: unknown } | null)?.code
    throw new NetworkPolicyError('ERR_DNS', 'the host name did not resolve', {
      detail: `lookup of ${target.host} failed${typeof code === 'string' ? ` (${code})` : ''}`,
      cause: error,
    })
  }
  if (answers.length === 0) {
    throw new NetworkPolicyError('ERR_DNS', 'the host name did not resolve', {
      detail: `lookup of ${target.host} returned no address`,
    })
  }
  return answers.map((answer) => {
    const c = classifyAddress(answer.address)
    if (c === undefined) {
      throw new NetworkPolicyError('ERR_DNS', 'the resolver returned something that is not an IP address', {
        detail: `lookup of ${target.host}`,
      })
    }
    assertAddressAllowed(c, target.url, allowLoopback, 'resolved')
    return c
  })
}
