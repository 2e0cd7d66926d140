/**
 * IP addresses and CIDR ranges as text, parsed strictly: the one reading shared by the
 * configuration (MESSO_ALLOWED_TARGETS, checked at boot) and the SSRF guard (outbound/), so
 * that what an operator allows is exactly what the guard lets through.
 */
import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

type IPv4 = ipaddr.IPv4;
type IPv6 = ipaddr.IPv6;

/**
 * Parses an address exactly as the socket layer will see it; a parser disagreement is how SSRF
 * filters are beaten. Two ipaddr.js leniencies are closed here:
 * - it accepts legacy IPv4 forms ("0x7f.1", octal "010.0.0.1"), so `net.isIP` must pass first;
 * - it reads "::a.b.c.d" as the MAPPED address ::ffff:a.b.c.d, while the OS reads the
 *   IPv4-compatible ::a.b.c.d, so a trailing dotted quad is rewritten to two hex groups first.
 */
export function parseStrictIp(ip: string): IPv4 | IPv6 | null {
  if (typeof ip !== 'string') return null;
  const family = isIP(ip);
  if (family === 0) return null;
  let text = ip;
  if (family === 6) {
    const zone = text.indexOf('%');
    const zoneSuffix = zone >= 0 ? text.slice(zone) : '';
    const bare = zone >= 0 ? text.slice(0, zone) : text;
    // isIP has already checked each octet is a decimal 0-255 without leading zeros.
    text =
      bare.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)$/, (_m, a: string, b: string, c: string, d: string) => {
        const hex = (hi: string, lo: string) => ((Number(hi) << 8) | Number(lo)).toString(16);
        return `${hex(a, b)}:${hex(c, d)}`;
      }) + zoneSuffix;
  }
  try {
    return ipaddr.parse(text);
  } catch {
    return null;
  }
}

export function parseCidr(entry: string): [IPv4 | IPv6, number] {
  const [address, bits, ...rest] = entry.split('/');
  const addr = rest.length === 0 ? parseStrictIp(address) : null;
  if (addr === null) {
    throw new Error(`"${entry}" is not a CIDR such as 10.1.0.0/16 or fd12::/64, nor a single IP address`);
  }
  const max = addr.kind() === 'ipv4' ? 32 : 128;
  if (bits === undefined) return [addr, max];
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
    throw new Error(`"${entry}" has an invalid prefix length: expected 0-${max}`);
  }
  return [addr, Number(bits)];
}

/**
 * Parses a comma- or whitespace-separated CIDR list (the `MESSO_ALLOWED_TARGETS` format).
 * A bare address means a single host. Returns normalised `address/bits` strings; throws on the
 * first bad entry, naming it, since this runs at boot.
 */
export function parseCidrList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .filter((entry) => entry !== '')
    .map((entry) => {
      const [addr, bits] = parseCidr(entry);
      return `${addr.toString()}/${bits}`;
    });
}

