/**
 * Classification of IP addresses for outbound requests: only global unicast addresses may be
 * reached, and an IPv6 address that embeds an IPv4 address is judged by the address it embeds.
 *
 * @module
 */

import { isIP } from 'node:net'
import ipaddr from 'ipaddr.js'

/** An address with its verdict. */
export interface AddressClassification {
  /** The address as given (zone identifier and brackets removed). */
  address: string
  family: 4 | 6
  /**
   * The category: `unicast` for a global address, otherwise the special-purpose range
   * (`private`, `loopback`, `linkLocal`, `carrierGradeNat`, `uniqueLocal`, `ipv4Mapped`, `nat64`, ...).
   */
  range: string
  /** IPv4 addresses carried inside an IPv6 address (mapped, compatible, 6to4, Teredo, NAT64). */
  embedded: AddressClassification[]
  /** Whether the address and every address it embeds is global unicast. */
  global: boolean
  /** Whether the address is this machine's loopback (`127/8`, `::1`, or `127/8` mapped into IPv6). */
  loopback: boolean
  /** The range that decided a refusal (the embedded one when that one is at fault); `unicast` when global. */
  reason: string
}

/**
 * Classifies one address. Returns `undefined` when `text` is not a canonical IPv4 dotted quad or an
 * IPv6 address (the short and numeric IPv4 spellings are a URL parser's business, not a resolver's).
 *
 * IPv4 is global only in the `unicast` range of `ipaddr.js`, which excludes this-network 0/8,
 * 10/8, 172.16/12, 192.168/16, 127/8, 169.254/16, 100.64/10, 192.0.0/24, the documentation
 * nets, 198.18/15, 192.88.99/24, multicast 224/4, reserved 240/4 and broadcast. IPv6 is global only in
 * 2000::/3 outside every special range; IPv4-mapped, IPv4-translated, IPv4-compatible, 6to4,
 * Teredo and NAT64 64:ff9b::/96 addresses are global only when the IPv4 address they carry is.
 *
 * @see [RFC 6890](https://www.rfc-editor.org/rfc/rfc6890) special-purpose address registries
 * @see [IANA IPv4 special-purpose registry](https://www.iana.org/assignments/iana-ipv4-special-registry/)
 * @see [IANA IPv6 special-purpose registry](https://www.iana.org/assignments/iana-ipv6-special-registry/)
 */
export function classifyAddress(text: string): AddressClassification | undefined {
  let address = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text
  // A zone index only ever qualifies non-global (link-local) addresses; classify the address itself.
  const zone = address.indexOf('%')
  if (zone !== -1) address = address.slice(0, zone)
  const family = isIP(address)
  if (family === 4) return classifyIPv4(ipaddr.IPv4.parse(address), address)
  if (family === 6) return classifyIPv6(parseIPv6(address), address)
  return undefined
}

/**
 * Whether an address may be connected to: global unicast, or loopback when `allowLoopback` is set.
 * Text that is not an IP address is never allowed.
 */
export function isAddressAllowed(text: string, options: { allowLoopback?: boolean } = {}): boolean {
  const c = classifyAddress(text)
  if (c === undefined) return false
  return c.global || (c.loopback && options.allowLoopback === true)
}

function classifyIPv4(ip: ipaddr.IPv4, address: string): AddressClassification {
  const range = ip.range()
  const global = range === 'unicast'
  return { address, family: 4, range, embedded: [], global, loopback: range === 'loopback', reason: range }
}

/**
 * ipaddr.js reads `::a.b.c.d` as IPv4-mapped, while RFC 4291 §2.5.5.1 makes it IPv4-compatible
 * (`::a.b.c.d` = `::XXXX:XXXX`). The WHATWG host parser implements RFC 4291, so it canonicalizes first.
 */
function parseIPv6(address: string): ipaddr.IPv6 {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1)
  return ipaddr.IPv6.parse(canonical)
}

const NAT64_WELL_KNOWN = ipaddr.IPv6.parseCIDR('64:ff9b::/96')
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3')

function ipv4At(parts: readonly number[], index: number, invert = false): ipaddr.IPv4 {
  const high = parts[index]! ^ (invert ? 0xffff : 0)
  const low = parts[index + 1]! ^ (invert ? 0xffff : 0)
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff])
}

function classifyIPv6(ip: ipaddr.IPv6, address: string): AddressClassification {
  const parts = ip.parts
  let range: string = ip.range()
  let carried: ipaddr.IPv4[] | undefined
  if (range === 'ipv4Mapped' || range === 'rfc6145') {
    // RFC 4291 §2.5.5.2 ::ffff:a.b.c.d; RFC 6145 ::ffff:0:a.b.c.d
    if (range === 'rfc6145') range = 'ipv4Translated'
    carried = [ipv4At(parts, 6)]
  } else if (range === 'rfc6052') {
    // RFC 6052 §2.1 well-known prefix carries the IPv4 address in the last 32 bits; RFC 8215
    // 64:ff9b:1::/48 is for local use and is never global.
    if (ip.match(NAT64_WELL_KNOWN)) {
      range = 'nat64'
      carried = [ipv4At(parts, 6)]
    } else {
      range = 'nat64Local'
    }
  } else if (range === '6to4') {
    // RFC 3056 §2: 2002:V4ADDR::/48
    carried = [ipv4At(parts, 1)]
  } else if (range === 'teredo') {
    // RFC 4380 §4: 2001:0:<server IPv4>:<flags>:<port>:<client IPv4 with every bit inverted>
    carried = [ipv4At(parts, 2), ipv4At(parts, 6, true)]
  } else if (range === 'unicast' && parts.slice(0, 6).every((p) => p === 0)) {
    // RFC 4291 §2.5.5.1 IPv4-compatible ::a.b.c.d (deprecated); :: and ::1 are matched earlier.
    range = 'ipv4Compatible'
    carried = [ipv4At(parts, 6)]
  } else if (range === 'unicast' && !ip.match(GLOBAL_UNICAST)) {
    // RFC 4291 §2.4: global unicast is 2000::/3; the rest of the space is unassigned.
    range = 'reserved'
  }

  if (carried === undefined) {
    const global = range === 'unicast'
    return { address, family: 6, range, embedded: [], global, loopback: range === 'loopback', reason: range }
  }
  const embedded = carried.map((v4) => classifyIPv4(v4, v4.toString()))
  const offending = embedded.find((e) => !e.global)
  return {
    address,
    family: 6,
    range,
    embedded,
    global: offending === undefined,
    // An IPv4 connection on a dual-stack socket reports ::ffff:127.0.0.1.
    loopback: range === 'ipv4Mapped' && embedded[0]!.loopback,
    reason: offending === undefined ? 'unicast' : offending.range,
  }
}
