/**
 * Checks made on a URL before anything is resolved or sent: scheme, userinfo, the egress
 * allow/deny hooks, and IP-literal hosts.
 *
 * @module
 */

import { NetworkPolicyError } from '../errors.js'
import { type AddressClassification, classifyAddress } from './address-policy.js'

/**
 * An egress host rule: a predicate, or a list of host names. A list entry matches the host exactly
 * (case-insensitively, ignoring a trailing dot); an entry starting with `*.` or `.` matches every
 * subdomain of the rest (`*.example.com` matches `a.example.com`, not `example.com`).
 * IPv6 hosts are given without brackets.
 */
export type HostRule = ((host: string, url: URL) => boolean) | readonly string[]

/** The URL-level part of the safe-fetch policy. */
export interface UrlPolicy {
  allowLoopback: boolean
  allowHosts: HostRule | undefined
  denyHosts: HostRule | undefined
}

/** A URL that passed the URL-level checks. */
export interface CheckedTarget {
  url: URL
  /** Lowercase host name without brackets or trailing dot. */
  host: string
  port: number
  /** Set when the host is an IP literal: the only address the request may go to. */
  literal: AddressClassification | undefined
}

/** Lowercase, no brackets, no trailing dot: the form hooks and lists are matched against. */
export function normalizeHost(hostname: string): string {
  let host = hostname.toLowerCase()
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1)
  if (host.endsWith('.')) host = host.slice(0, -1)
  return host
}

function matchesRule(rule: HostRule, host: string, url: URL): boolean {
  if (typeof rule === 'function') return rule(host, url)
  return rule.some((entry) => {
    const e = normalizeHost(entry)
    if (e.startsWith('*.')) return host.endsWith(e.slice(1))
    if (e.startsWith('.')) return host.endsWith(e)
    return host === e
  })
}

/**
 * Checks one URL (the first request or a redirect target) against the policy, in the order the
 * cheapest refusal comes first. IP-literal hosts are classified here and never reach DNS; the
 * URL parser has already turned `2130706433`, `0x7f000001`, `0177.0.0.1` and `127.1` into `127.0.0.1`.
 *
 * @see [WHATWG URL §3.5](https://url.spec.whatwg.org/#concept-host-parser) host parsing (IPv4 number forms)
 * @see [RFC 3986 §3.2.1](https://www.rfc-editor.org/rfc/rfc3986#section-3.2.1) userinfo
 */
export function checkUrl(url: URL, policy: UrlPolicy): CheckedTarget {
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new NetworkPolicyError('ERR_SCHEME_NOT_ALLOWED', 'only https: URLs may be fetched', {
      detail: `scheme ${url.protocol}`,
    })
  }
  if (url.protocol === 'http:' && !policy.allowLoopback) {
    throw new NetworkPolicyError(
      'ERR_SCHEME_NOT_ALLOWED',
      'http: is allowed only to an allowed loopback host',
      {
        detail: `http: to ${url.host}`,
      },
    )
  }
  if (url.username !== '' || url.password !== '') {
    throw new NetworkPolicyError('ERR_USERINFO', 'URLs with a user name or password are refused', {
      detail: `userinfo in a URL to ${url.host}`,
    })
  }
  const host = normalizeHost(url.hostname)
  if (host === '') throw new NetworkPolicyError('ERR_INVALID_URL', 'the URL has no host')
  if (policy.denyHosts !== undefined && matchesRule(policy.denyHosts, host, url)) {
    throw new NetworkPolicyError('ERR_HOST_DENIED', 'the host is on the deny list', {
      detail: `host ${host}`,
    })
  }
  if (policy.allowHosts !== undefined && !matchesRule(policy.allowHosts, host, url)) {
    throw new NetworkPolicyError('ERR_HOST_NOT_ALLOWED', 'the host is not on the allow list', {
      detail: `host ${host}`,
    })
  }
  const literal = classifyAddress(host)
  if (literal !== undefined) assertAddressAllowed(literal, url, policy.allowLoopback, 'literal')
  const port = url.port === '' ? (url.protocol === 'https:' ? 443 : 80) : Number(url.port)
  return { url, host, port, literal }
}

/**
 * Refuses an address that is not global unicast (loopback passes only when allowed), and an
 * `http:` request to anything but loopback.
 */
export function assertAddressAllowed(
  c: AddressClassification,
  url: URL,
  allowLoopback: boolean,
  stage: 'literal' | 'resolved' | 'connected',
): void {
  const allowed = c.global || (c.loopback && allowLoopback)
  if (!allowed) {
    const via = c.embedded.length > 0 && c.reason !== c.range ? ` embedding ${c.reason}` : ''
    throw new NetworkPolicyError('ERR_ADDRESS_NOT_ALLOWED', `the ${stage} address is not a global address`, {
      range: c.reason,
      detail: `${stage} address ${c.address} of ${url.host} is ${c.range}${via}`,
    })
  }
  if (url.protocol === 'http:' && !c.loopback) {
    throw new NetworkPolicyError(
      'ERR_SCHEME_NOT_ALLOWED',
      'http: is allowed only to an allowed loopback host',
      {
        detail: `http: to ${stage} address ${c.address} of ${url.host}`,
      },
    )
  }
}
