import test from 'ava';
import { cidrContains, formatCIDR, formatIP, parseCIDR, parseIP } from './cidr.js';

const ips: [string, string | null][] = [
  ['127.96.0.1', '127.96.0.1'],
  ['0.0.0.0', '0.0.0.0'],
  ['255.255.255.255', '255.255.255.255'],
  ['::', '::'],
  ['::1', '::1'],
  ['FD00::1', 'fd00::1'],
  ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
  ['1:0:1:0:1:0:1:0', '1:0:1:0:1:0:1:0'],
  ['::ffff:127.0.0.1', '::ffff:7f00:1'],
  ['fd00::', 'fd00::'],
  ['256.0.0.1', null],
  ['127.0.0', null],
  ['01.2.3.4', null],
  ['fe80::1%eth0', null],
  ['', null],
  ['not-an-ip', null],
  ['1::2::3', null],
];

for (const [input, want] of ips) {
  test(`parseIP/formatIP ${JSON.stringify(input)}`, (t) => {
    const ip = parseIP(input);
    t.is(ip === null ? null : formatIP(ip), want);
  });
}

const cidrs: [string, string, bigint][] = [
  ['127.96.0.0/12', '127.96.0.0/12', 1n << 20n],
  ['127.96.5.7/12', '127.96.0.0/12', 1n << 20n], // host bits cleared, as ParseCIDRSloppy does
  ['127.0.0.0/32', '127.0.0.0/32', 1n],
  ['fd00::/108', 'fd00::/108', 1n << 20n],
  ['FD00:0::5/120', 'fd00::/120', 256n],
  ['0.0.0.0/0', '0.0.0.0/0', 1n << 32n],
];
for (const [input, want, size] of cidrs) {
  test(`parseCIDR ${input}`, (t) => {
    const c = parseCIDR(input);
    t.is(formatCIDR(c), want);
    t.is(c.size, size);
  });
}

for (const bad of ['127.96.0.0', '127.96.0.0/33', 'fd00::/129', 'x/8', '127.96.0.0/-1', '127.96.0.0/']) {
  test(`parseCIDR rejects ${JSON.stringify(bad)} with a message naming it`, (t) => {
    const err = t.throws(() => parseCIDR(bad));
    t.true(err!.message.includes(JSON.stringify(bad)));
  });
}

test('cidrContains respects family and bounds', (t) => {
  const c = parseCIDR('127.96.0.0/12');
  t.true(cidrContains(c, parseIP('127.96.0.0')!));
  t.true(cidrContains(c, parseIP('127.111.255.255')!));
  t.false(cidrContains(c, parseIP('127.112.0.0')!));
  t.false(cidrContains(c, parseIP('::ffff:127.96.0.1')!));
});
