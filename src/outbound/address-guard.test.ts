// Address VALUES only: nothing here opens a socket.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classifyAddress, createAddressPolicy } from './address-guard.js';
import { parseCidrList } from '../domain/cidr.js';

function assertRefused(ip: string, reasonPart: string | RegExp, check = classifyAddress): void {
  const verdict = check(ip);
  assert.equal(verdict.allowed, false, `${ip} should be refused`);
  if (!verdict.allowed) {
    if (typeof reasonPart === 'string') assert.ok(verdict.reason.includes(reasonPart), `${ip}: "${verdict.reason}" lacks "${reasonPart}"`);
    else assert.match(verdict.reason, reasonPart, ip);
  }
}

function assertAllowed(ip: string, check = classifyAddress): void {
  assert.deepEqual(check(ip), { allowed: true }, `${ip} should be allowed`);
}

test('public IPv4 and IPv6 unicast addresses are allowed', () => {
  for (const ip of ['8.8.8.8', '1.1.1.1', '93.184.216.34', '151.101.1.69', '100.63.255.255', '100.128.0.0',
    '172.15.255.255', '172.32.0.0', '192.167.255.255', '192.169.0.0', '223.255.255.255', '11.0.0.0', '126.255.255.255', '128.0.0.0']) {
    assertAllowed(ip);
  }
  for (const ip of ['2001:4860:4860::8888', '2606:4700:4700::1111', '2a00:1450:4002:402::200e', '2001:4::1']) {
    assertAllowed(ip);
  }
});

test('IPv4 special ranges are refused, at both edges', () => {
  const cases: [string, string][] = [
    ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'], ['127.0.0.0', 'loopback'],
    ['10.0.0.0', 'RFC 1918'], ['10.255.255.255', 'RFC 1918'],
    ['172.16.0.0', 'RFC 1918'], ['172.31.255.255', 'RFC 1918'],
    ['192.168.0.0', 'RFC 1918'], ['192.168.255.255', 'RFC 1918'],
    ['169.254.0.1', 'link-local'], ['169.254.255.255', 'link-local'],
    ['100.64.0.0', 'carrier-grade NAT'], ['100.127.255.255', 'carrier-grade NAT'],
    ['0.0.0.0', 'unspecified'], ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['240.0.0.1', 'reserved'], ['255.255.255.254', 'reserved'],
    ['192.0.2.10', 'documentation'], ['198.51.100.7', 'documentation'], ['203.0.113.200', 'documentation'],
    ['198.18.0.1', 'benchmarking'], ['198.19.255.255', 'benchmarking'],
    ['192.0.0.8', 'IETF protocol'], ['192.88.99.1', '6to4 relay'],
  ];
  for (const [ip, reason] of cases) assertRefused(ip, reason);
});

test('cloud metadata endpoints are refused with a specific reason', () => {
  assertRefused('169.254.169.254', 'cloud metadata');
  assertRefused('100.100.100.200', 'cloud metadata');
  assertRefused('fd00:ec2::254', 'cloud metadata');
  assertRefused('::ffff:169.254.169.254', /IPv4-mapped .*cloud metadata/);
});

test('IPv6 special ranges are refused', () => {
  const cases: [string, string][] = [
    ['::1', 'loopback'], ['::', 'unspecified'],
    ['fe80::1', 'link-local'], ['febf:ffff::1', 'link-local'], ['fe80::1%eth0', 'link-local'],
    ['fc00::1', 'unique local'], ['fd12:3456:789a::1', 'unique local'], ['fdff:ffff::1', 'unique local'],
    ['ff02::1', 'multicast'], ['ff05::1:3', 'multicast'],
    ['fec0::1', 'site-local'],
    ['2001:db8::1', 'documentation'], ['3fff::1', 'documentation'],
    ['2001:2::1', 'benchmarking'], ['2001:10::1', 'ORCHID'], ['2001:20::1', 'ORCHIDv2'],
    ['100::1', 'discard'],
    ['64:ff9b:1::a00:1', 'local-use NAT64'],
    ['4000::1', 'not IPv6 global unicast'], ['::2:1:0:0:1', 'not IPv6 global unicast'], ['5f00::1', 'not IPv6 global unicast'],
  ];
  for (const [ip, reason] of cases) assertRefused(ip, reason);
});

test('IPv6 forms that embed a refused IPv4 address are refused, naming the embedded address', () => {
  const cases: [string, RegExp][] = [
    ['::ffff:127.0.0.1', /IPv4-mapped form of 127\.0\.0\.1: loopback/],
    ['::ffff:7f00:1', /IPv4-mapped form of 127\.0\.0\.1/],
    ['0:0:0:0:0:ffff:7f00:0001', /IPv4-mapped form of 127\.0\.0\.1/],
    ['::ffff:10.0.0.1', /IPv4-mapped .*RFC 1918/],
    ['::ffff:0:127.0.0.1', /IPv4-translated form of 127\.0\.0\.1/],
    ['::127.0.0.1', /IPv4-compatible form of 127\.0\.0\.1/],
    ['::192.168.1.1', /IPv4-compatible form of 192\.168\.1\.1/],
    ['64:ff9b::127.0.0.1', /NAT64 form of 127\.0\.0\.1/],
    ['64:ff9b::a9fe:a9fe', /NAT64 form of 169\.254\.169\.254: cloud metadata/],
    ['2002:7f00:1::1', /6to4 form of 127\.0\.0\.1/],
    ['2002:c0a8:101::', /6to4 form of 192\.168\.1\.1/],
    ['2002:a9fe:a9fe::1', /6to4 form of 169\.254\.169\.254/],
    // Teredo: server 65.54.227.120 (public), client 127.0.0.1 stored inverted as 80ff:fffe.
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', /Teredo client form of 127\.0\.0\.1/],
    // Teredo whose server part is private.
    ['2001:0:a00:1::1', /Teredo server form of 10\.0\.0\.1/],
  ];
  for (const [ip, reason] of cases) assertRefused(ip, reason);
});

test('IPv6 forms that embed a public IPv4 address are judged by it', () => {
  assertAllowed('::ffff:8.8.8.8');
  assertAllowed('64:ff9b::8.8.8.8');
  assertAllowed('2002:808:808::1');
  // Teredo with public server 65.54.227.120 and public client 8.8.8.8 (inverted: f7f7:f7f7).
  assertAllowed('2001:0:4136:e378:8000:63bf:f7f7:f7f7');
  // IPv4-compatible is deprecated: refused even around a public address.
  assertRefused('::8.8.8.8', 'deprecated IPv4-compatible');
});

test('anything that is not a canonical IP literal is refused', () => {
  for (const ip of ['', 'localhost', 'example.com', '2130706433', '0x7f.1', '127.1', '010.0.0.1', '1.2.3.4.5', '[::1]', '::1/128', ' 8.8.8.8']) {
    assertRefused(ip, 'not an IP address');
  }
});

test('parseCidrList validates, normalises, and accepts bare addresses', () => {
  assert.deepEqual(parseCidrList(''), []);
  assert.deepEqual(parseCidrList('  '), []);
  assert.deepEqual(parseCidrList('127.0.0.0/8,::1/128'), ['127.0.0.0/8', '::1/128']);
  assert.deepEqual(parseCidrList(' 10.1.0.0/16 , fd12:0::/64\n192.168.1.5'), ['10.1.0.0/16', 'fd12::/64', '192.168.1.5/32']);
  assert.deepEqual(parseCidrList('::1'), ['::1/128']);
  assert.deepEqual(parseCidrList('0.0.0.0/0'), ['0.0.0.0/0']);
  assert.throws(() => parseCidrList('127.0.0.0/33'), /"127\.0\.0\.0\/33" has an invalid prefix length: expected 0-32/);
  assert.throws(() => parseCidrList('::1/129'), /expected 0-128/);
  assert.throws(() => parseCidrList('10.0.0.0/8,nonsense'), /"nonsense" is not a CIDR/);
  assert.throws(() => parseCidrList('10.0.0.0/x'), /invalid prefix length/);
  assert.throws(() => parseCidrList('10.0.0.0/8/8'), /is not a CIDR/);
  assert.throws(() => parseCidrList('127.1/8'), /is not a CIDR/);
  assert.throws(() => parseCidrList('10.0.0.0/'), /invalid prefix length/);
});

test('createAddressPolicy: allowed CIDRs pass even when otherwise refused', () => {
  const policy = createAddressPolicy(['127.0.0.0/8', '::1/128', '10.20.0.0/16']);
  const check = (ip: string) => policy.check(ip);
  assertAllowed('127.0.0.1', check);
  assertAllowed('127.9.9.9', check);
  assertAllowed('::1', check);
  assertAllowed('10.20.30.40', check);
  // The mapped form of an allowed IPv4 address is the same socket destination.
  assertAllowed('::ffff:127.0.0.1', check);
  // Public addresses stay allowed, other refused ranges stay refused.
  assertAllowed('8.8.8.8', check);
  assertRefused('10.21.0.1', 'RFC 1918', check);
  assertRefused('169.254.169.254', 'cloud metadata', check);
  assertRefused('fe80::1', 'link-local', check);
  // Other embeddings of an allowed address are not widened by the allow-list.
  assertRefused('64:ff9b::127.0.0.1', 'NAT64', check);
  // "::127.0.0.1" is IPv4-compatible (::7f00:1), not mapped, whatever ipaddr.js thinks.
  assertRefused('::127.0.0.1', 'IPv4-compatible', check);
  assertRefused('localhost', 'not an IP address', check);
});

test('createAddressPolicy with an empty list behaves like classifyAddress', () => {
  const policy = createAddressPolicy([]);
  for (const ip of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '8.8.8.8', '2001:4860:4860::8888', 'nope']) {
    assert.deepEqual(policy.check(ip), classifyAddress(ip), ip);
  }
});

test('createAddressPolicy rejects an invalid list', () => {
  assert.throws(() => createAddressPolicy(['127.0.0.0/8', 'bad']), /"bad" is not a CIDR/);
});
