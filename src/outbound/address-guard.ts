/**
 * SSRF guard: decides whether an IP address may be the target of a webhook delivery.
 *
 * Webhook URLs are typed by tenants, so without this anyone could make messo POST to the
 * municipality's intranet, to the cloud metadata service, or to messo's own admin port. The
 * guard works on address VALUES: the sender (sender.ts) resolves the hostname itself and asks
 * about every address it is about to connect to, so DNS names, rebinding and numeric tricks
 * (`http://2130706433/`, which the URL parser already turns into 127.0.0.1) all end up here as a
 * plain address.
 *
 * Policy: refuse everything that is not plainly public unicast. IPv4 is a deny-list of special
 * ranges; IPv6 is an allow-list of global unicast (2000::/3) minus its special ranges, after
 * unwrapping the forms that embed an IPv4 address (mapped, translated, NAT64, 6to4, Teredo), so
 * that `::ffff:127.0.0.1` is judged as 127.0.0.1. Operators can open holes with an allow-list of
 * CIDRs (`MESSO_ALLOWED_TARGETS`), e.g. for a receiver on the municipality's own network.
 */
import ipaddr from 'ipaddr.js';
import { parseCidr, parseStrictIp as parseStrict } from '../domain/cidr.js';

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

export interface AddressPolicy {
  check(ip: string): AddressVerdict;
}

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

const ALLOWED: AddressVerdict = Object.freeze({ allowed: true });
const refuse = (reason: string): AddressVerdict => ({ allowed: false, reason });

/** First match wins, so the metadata endpoints come before the ranges that contain them. */
const V4_REFUSED: [IPv4, number, string][] = (
  [
    ['169.254.169.254/32', 'cloud metadata endpoint (169.254.169.254)'],
    ['100.100.100.200/32', 'cloud metadata endpoint (Alibaba, 100.100.100.200)'],
    ['255.255.255.255/32', 'broadcast (255.255.255.255)'],
    ['0.0.0.0/8', 'unspecified / "this network" (0.0.0.0/8)'],
    ['10.0.0.0/8', 'private (RFC 1918, 10.0.0.0/8)'],
    ['100.64.0.0/10', 'carrier-grade NAT (RFC 6598, 100.64.0.0/10)'],
    ['127.0.0.0/8', 'loopback (127.0.0.0/8)'],
    ['169.254.0.0/16', 'link-local (169.254.0.0/16)'],
    ['172.16.0.0/12', 'private (RFC 1918, 172.16.0.0/12)'],
    ['192.0.0.0/24', 'IETF protocol assignments (192.0.0.0/24)'],
    ['192.0.2.0/24', 'documentation (TEST-NET-1, 192.0.2.0/24)'],
    ['192.88.99.0/24', 'deprecated 6to4 relay anycast (192.88.99.0/24)'],
    ['192.168.0.0/16', 'private (RFC 1918, 192.168.0.0/16)'],
    ['198.18.0.0/15', 'benchmarking (198.18.0.0/15)'],
    ['198.51.100.0/24', 'documentation (TEST-NET-2, 198.51.100.0/24)'],
    ['203.0.113.0/24', 'documentation (TEST-NET-3, 203.0.113.0/24)'],
    ['224.0.0.0/4', 'multicast (224.0.0.0/4)'],
    ['240.0.0.0/4', 'reserved (240.0.0.0/4)'],
  ] as const
).map(([cidr, reason]) => [...ipaddr.IPv4.parseCIDR(cidr), reason]);

const V6_REFUSED: [IPv6, number, string][] = (
  [
    ['fd00:ec2::254/128', 'cloud metadata endpoint (AWS, fd00:ec2::254)'],
    ['::/128', 'unspecified (::)'],
    ['::1/128', 'loopback (::1)'],
    ['64:ff9b:1::/48', 'local-use NAT64 (RFC 8215, 64:ff9b:1::/48)'],
    ['100::/64', 'discard-only (100::/64)'],
    ['2001:2::/48', 'benchmarking (2001:2::/48)'],
    ['2001:10::/28', 'ORCHID, not routable (2001:10::/28)'],
    ['2001:20::/28', 'ORCHIDv2, not routable (2001:20::/28)'],
    ['2001:db8::/32', 'documentation (2001:db8::/32)'],
    ['3fff::/20', 'documentation (3fff::/20)'],
    ['fc00::/7', 'unique local (fc00::/7)'],
    ['fe80::/10', 'link-local (fe80::/10)'],
    ['fec0::/10', 'deprecated site-local (fec0::/10)'],
    ['ff00::/8', 'multicast (ff00::/8)'],
  ] as const
).map(([cidr, reason]) => [...ipaddr.IPv6.parseCIDR(cidr), reason]);

const cidr6 = (text: string): [IPv6, number] => ipaddr.IPv6.parseCIDR(text);
const IPV4_MAPPED = cidr6('::ffff:0:0/96');
const IPV4_TRANSLATED = cidr6('::ffff:0:0:0/96'); // RFC 6145/2765 SIIT
const IPV4_COMPATIBLE = cidr6('::/96'); // deprecated by RFC 4291
const NAT64_WELL_KNOWN = cidr6('64:ff9b::/96'); // RFC 6052
const SIX_TO_FOUR = cidr6('2002::/16'); // RFC 3056
const TEREDO = cidr6('2001::/32'); // RFC 4380
const GLOBAL_UNICAST = cidr6('2000::/3');

function v4FromWords(high: number, low: number): IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

function classifyV4(addr: IPv4): AddressVerdict {
  for (const [range, bits, reason] of V4_REFUSED) {
    if (addr.match(range, bits)) return refuse(reason);
  }
  return ALLOWED;
}

/** Judges an IPv6 address that carries an IPv4 one by the IPv4 inside it. */
function embedded(form: string, v4: IPv4): AddressVerdict {
  const inner = classifyV4(v4);
  return inner.allowed ? inner : refuse(`${form} form of ${v4.toString()}: ${inner.reason}`);
}

function classifyV6(addr: IPv6): AddressVerdict {
  for (const [range, bits, reason] of V6_REFUSED) {
    if (addr.match(range, bits)) return refuse(reason);
  }
  const p = addr.parts;
  if (addr.match(IPV4_MAPPED)) return embedded('IPv4-mapped', v4FromWords(p[6], p[7]));
  if (addr.match(IPV4_TRANSLATED)) return embedded('IPv4-translated', v4FromWords(p[6], p[7]));
  if (addr.match(NAT64_WELL_KNOWN)) return embedded('NAT64', v4FromWords(p[6], p[7]));
  if (addr.match(IPV4_COMPATIBLE)) {
    // Nothing legitimate uses these any more; refuse even a public embedded address, since
    // how a stack routes them is platform-dependent.
    const inner = embedded('IPv4-compatible', v4FromWords(p[6], p[7]));
    return inner.allowed ? refuse('deprecated IPv4-compatible address (::/96)') : inner;
  }
  if (addr.match(SIX_TO_FOUR)) return embedded('6to4', v4FromWords(p[1], p[2]));
  if (addr.match(TEREDO)) {
    // Teredo carries the server address in clear and the client address bit-inverted.
    const server = embedded('Teredo server', v4FromWords(p[2], p[3]));
    if (!server.allowed) return server;
    return embedded('Teredo client', v4FromWords(~p[6] & 0xffff, ~p[7] & 0xffff));
  }
  if (!addr.match(GLOBAL_UNICAST)) return refuse('not IPv6 global unicast (outside 2000::/3)');
  return ALLOWED;
}


/** The built-in verdict, with no allow-list. */
export function classifyAddress(ip: string): AddressVerdict {
  const addr = parseStrict(ip);
  if (addr === null) return refuse(`not an IP address: "${ip}"`);
  return addr.kind() === 'ipv4' ? classifyV4(addr as IPv4) : classifyV6(addr as IPv6);
}

/**
 * A policy whose allow-list wins over the built-in refusals. An IPv4-mapped address also
 * matches IPv4 entries: `::ffff:127.0.0.1` reaches the same socket as 127.0.0.1.
 */
export function createAddressPolicy(allowedCidrs: readonly string[]): AddressPolicy {
  const allowed = allowedCidrs.map(parseCidr);
  return {
    check(ip: string): AddressVerdict {
      const addr = parseStrict(ip);
      if (addr === null) return refuse(`not an IP address: "${ip}"`);
      const candidates: (IPv4 | IPv6)[] = [addr];
      if (addr.kind() === 'ipv6' && (addr as IPv6).isIPv4MappedAddress()) {
        candidates.push((addr as IPv6).toIPv4Address());
      }
      for (const candidate of candidates) {
        for (const [range, bits] of allowed) {
          if (candidate.kind() === range.kind() && candidate.match(range, bits)) return ALLOWED;
        }
      }
      return classifyAddress(ip);
    },
  };
}
