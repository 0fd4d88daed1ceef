import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { classifyAddress, isAddressAllowed } from '../../src/node/safe-fetch/address-policy.js'

// Classification only: nothing here touches the network.

// [address, expected reason] for every special range the policy refuses.
const REFUSED: ReadonlyArray<readonly [string, string]> = [
  // IPv4, RFC 6890 / IANA special-purpose registry
  ['0.0.0.0', 'unspecified'], // this network, RFC 791 / RFC 1122 §3.2.1.3
  ['0.1.2.3', 'unspecified'],
  ['10.0.0.1', 'private'], // RFC 1918
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.254', 'private'],
  ['192.168.1.1', 'private'],
  ['127.0.0.1', 'loopback'], // RFC 1122 §3.2.1.3
  ['127.255.255.254', 'loopback'],
  ['169.254.169.254', 'linkLocal'], // RFC 3927; the cloud metadata address
  ['169.254.0.1', 'linkLocal'],
  ['100.64.0.1', 'carrierGradeNat'], // RFC 6598
  ['100.127.255.254', 'carrierGradeNat'],
  ['198.18.0.1', 'reserved'], // benchmarking, RFC 2544
  ['198.19.255.254', 'reserved'],
  ['192.0.2.1', 'reserved'], // TEST-NET-1, RFC 5737
  ['198.51.100.1', 'reserved'], // TEST-NET-2
  ['203.0.113.1', 'reserved'], // TEST-NET-3
  ['192.0.0.1', 'reserved'], // IETF protocol assignments, RFC 6890
  ['192.88.99.1', 'reserved'], // 6to4 relay anycast, RFC 7526
  ['224.0.0.1', 'multicast'], // RFC 5771
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'], // RFC 1112 §4
  ['255.255.255.255', 'broadcast'], // RFC 919
  // IPv6, RFC 4291 and the IANA registry
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['fc00::1', 'uniqueLocal'], // RFC 4193
  ['fd00::1', 'uniqueLocal'],
  ['fe80::1', 'linkLocal'],
  ['fe80::1%eth0', 'linkLocal'],
  ['febf::1', 'linkLocal'],
  ['fec0::1', 'deprecatedSiteLocal'], // RFC 3879
  ['ff02::1', 'multicast'],
  ['ff0e::1', 'multicast'],
  ['100::1', 'discard'], // RFC 6666
  ['2001:2::1', 'benchmarking'], // RFC 5180
  ['2001:db8::1', 'reserved'], // documentation, RFC 3849
  ['3fff::1', 'reserved'], // documentation, RFC 9637
  ['4000::1', 'reserved'], // outside 2000::/3
  ['64:ff9b:1::a00:1', 'nat64Local'], // RFC 8215 local-use NAT64
  // IPv6 forms that embed an IPv4 address: judged by that address
  ['::ffff:10.0.0.1', 'private'], // IPv4-mapped, RFC 4291 §2.5.5.2
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  ['::ffff:a9fe:a9fe', 'linkLocal'],
  ['::ffff:0:10.0.0.1', 'private'], // IPv4-translated, RFC 6145
  ['::10.0.0.1', 'private'], // IPv4-compatible, RFC 4291 §2.5.5.1
  ['::a9fe:a9fe', 'linkLocal'],
  ['::127.0.0.1', 'loopback'],
  ['2002:0a00:0001::', 'private'], // 6to4, RFC 3056
  ['2002:a9fe:a9fe::1', 'linkLocal'],
  ['2002:7f00:1::1', 'loopback'],
  ['64:ff9b::a9fe:a9fe', 'linkLocal'], // NAT64 well-known prefix, RFC 6052
  ['64:ff9b::10.0.0.1', 'private'],
  ['64:ff9b::7f00:1', 'loopback'],
  // Teredo, RFC 4380 §4: 2001:0:<server>:<flags>:<port>:<client, bits inverted>
  ['2001:0:4136:e378:8000:63bf:f5ff:fffe', 'private'], // global server, client 10.0.0.1
  ['2001:0:a00:1:8000:63bf:f7f7:f7f7', 'private'], // server 10.0.0.1, global client
  ['2001:0:4136:e378:8000:63bf:5601:5601', 'linkLocal'], // client 169.254.169.254... inverted
]

const ALLOWED: readonly string[] = [
  '8.8.8.8',
  '1.1.1.1',
  '93.184.216.34',
  '172.32.0.1', // just past 172.16/12
  '100.128.0.1', // just past 100.64/10
  '192.169.0.1',
  '2606:4700::1111',
  '2001:4860:4860::8888',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
  '2001:0:4136:e378:8000:63bf:f7f7:f7f7', // Teredo, server 65.54.227.120, client 8.8.8.8
]

describe('classifyAddress', () => {
  it.each(REFUSED)('refuses %s (%s)', (address, reason) => {
    const c = classifyAddress(address)
    expect(c).toBeDefined()
    expect(c!.global).toBe(false)
    expect(c!.reason).toBe(reason)
    expect(isAddressAllowed(address)).toBe(false)
  })

  it.each(ALLOWED)('allows the global address %s', (address) => {
    const c = classifyAddress(address)
    expect(c).toMatchObject({ global: true, reason: 'unicast', loopback: false })
    expect(isAddressAllowed(address)).toBe(true)
  })

  it('names the embedded address of IPv6 transition forms', () => {
    expect(classifyAddress('::ffff:a9fe:a9fe')).toMatchObject({
      range: 'ipv4Mapped',
      embedded: [{ address: '169.254.169.254', range: 'linkLocal' }],
    })
    expect(classifyAddress('64:ff9b::a9fe:a9fe')).toMatchObject({ range: 'nat64' })
    expect(classifyAddress('2002:0a00:0001::')).toMatchObject({
      range: '6to4',
      embedded: [{ address: '10.0.0.1' }],
    })
    expect(classifyAddress('::10.0.0.1')).toMatchObject({ range: 'ipv4Compatible' })
    const teredo = classifyAddress('2001:0:4136:e378:8000:63bf:f5ff:fffe')
    expect(teredo?.range).toBe('teredo')
    expect(teredo?.embedded.map((e) => e.address)).toEqual(['65.54.227.120', '10.0.0.1'])
  })

  it('does not read numeric or short IPv4 spellings: those are URL syntax, not resolver answers', () => {
    for (const text of ['2130706433', '0x7f000001', '0177.0.0.1', '127.1', 'example.com', '', '1.2.3.4.5']) {
      expect(classifyAddress(text)).toBeUndefined()
      expect(isAddressAllowed(text, { allowLoopback: true })).toBe(false)
    }
  })

  it('accepts bracketed IPv6 as the URL host form gives it', () => {
    expect(classifyAddress('[::1]')).toMatchObject({ range: 'loopback', loopback: true })
  })

  it('treats only 127/8, ::1 and mapped 127/8 as loopback', () => {
    for (const a of ['127.0.0.1', '127.0.0.2', '::1', '::ffff:127.0.0.1']) {
      expect(isAddressAllowed(a)).toBe(false)
      expect(isAddressAllowed(a, { allowLoopback: true })).toBe(true)
    }
    // Loopback of a NAT64 gateway or a 6to4 relay is not this machine's loopback.
    for (const a of ['64:ff9b::7f00:1', '2002:7f00:1::1', '::127.0.0.1', '10.0.0.1', 'fe80::1']) {
      expect(isAddressAllowed(a, { allowLoopback: true })).toBe(false)
    }
  })

  it('judges every IPv4-embedding IPv6 form exactly as the IPv4 address it carries', () => {
    const octet = fc.integer({ min: 0, max: 255 })
    fc.assert(
      fc.property(fc.tuple(octet, octet, octet, octet), (octets) => {
        const v4 = octets.join('.')
        const hex = (a: number, b: number) => ((a << 8) | b).toString(16)
        const [a, b, c, d] = octets
        const h1 = hex(a, b)
        const h2 = hex(c, d)
        const expected = classifyAddress(v4)!.global
        for (const v6 of [`::ffff:${v4}`, `64:ff9b::${v4}`, `2002:${h1}:${h2}::1`, `::ffff:0:${v4}`]) {
          expect(classifyAddress(v6)!.global).toBe(expected)
        }
      }),
    )
  })
})
