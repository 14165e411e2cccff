import test from 'ava';
import { unmapIPv4, writeIPv6 } from './ip.js';
import { proxyHeaderV1, proxyHeaderV2 } from './proxy-protocol.js';
import { parseProxy } from './test-support/proxy-parse.js';

const v4 = { sourceAddress: '127.0.0.1', sourcePort: 56324, destinationAddress: '127.96.0.5', destinationPort: 443 };
const v6 = { sourceAddress: '::1', sourcePort: 1, destinationAddress: 'fd00::5', destinationPort: 65535 };
const mixed = { sourceAddress: '::ffff:127.0.0.1', sourcePort: 5, destinationAddress: '127.96.0.5', destinationPort: 80 };
const unknown = { sourceAddress: undefined, sourcePort: undefined, destinationAddress: '127.96.0.5', destinationPort: 80 };

const v1Cases = [
  { name: 'IPv4', in: v4, want: 'PROXY TCP4 127.0.0.1 127.96.0.5 56324 443\r\n' },
  { name: 'IPv6', in: v6, want: 'PROXY TCP6 ::1 fd00::5 1 65535\r\n' },
  { name: 'v4-mapped source unmapped', in: mixed, want: 'PROXY TCP4 127.0.0.1 127.96.0.5 5 80\r\n' },
  { name: 'one family v6: both v6', in: { ...v4, destinationAddress: '::1' }, want: 'PROXY TCP6 ::ffff:127.0.0.1 ::1 56324 443\r\n' },
  { name: 'unknown peer', in: unknown, want: 'PROXY UNKNOWN\r\n' },
];
for (const c of v1Cases) {
  test(`PROXY v1: ${c.name}`, (t) => {
    t.is(proxyHeaderV1(c.in).toString('latin1'), c.want);
  });
}

test('PROXY v2 IPv4 TCP: exact bytes', (t) => {
  t.is(
    proxyHeaderV2(v4, 'TCP').toString('hex'),
    '0d0a0d0a000d0a515549540a' + '21' + '11' + '000c' + '7f000001' + '7f600005' + 'dc04' + '01bb',
  );
});

test('PROXY v2 IPv6 UDP: exact bytes', (t) => {
  t.is(
    proxyHeaderV2(v6, 'UDP').toString('hex'),
    '0d0a0d0a000d0a515549540a' +
      '21' +
      '22' +
      '0024' +
      '00000000000000000000000000000001' +
      'fd000000000000000000000000000005' +
      '0001' +
      'ffff',
  );
});

test('PROXY v2 unknown peer: AF_UNSPEC with no addresses', (t) => {
  t.is(proxyHeaderV2(unknown, 'TCP').toString('hex'), '0d0a0d0a000d0a515549540a' + '21' + '00' + '0000');
});

test('PROXY headers round-trip through an independent parser', (t) => {
  const p1 = parseProxy(Buffer.concat([proxyHeaderV1(v4), Buffer.from('GET /')]))!;
  t.like(p1, { version: 1, family: 'TCP4', source: '127.0.0.1', sourcePort: 56324, destination: '127.96.0.5', destinationPort: 443 });
  t.is(p1.rest.toString(), 'GET /');
  const p2 = parseProxy(proxyHeaderV2(v6, 'TCP'))!;
  t.like(p2, { version: 2, command: 'PROXY', family: 'INET6/STREAM', source: '0:0:0:0:0:0:0:1', destination: 'fd00:0:0:0:0:0:0:5' });
});

const v6Cases: Array<[string, string]> = [
  ['::', '00000000000000000000000000000000'],
  ['::1', '00000000000000000000000000000001'],
  ['fd00::', 'fd000000000000000000000000000000'],
  ['2001:db8:0:1:2:3:4:5', '20010db8000000010002000300040005'],
  ['2001:db8::2:3:4:5', '20010db8000000000002000300040005'],
  ['::ffff:127.0.0.1', '00000000000000000000ffff7f000001'],
  ['fe80::1%lo', 'fe800000000000000000000000000001'],
];
for (const [addr, hex] of v6Cases) {
  test(`writeIPv6 ${addr}`, (t) => {
    const out = Buffer.alloc(16);
    writeIPv6(addr, out, 0);
    t.is(out.toString('hex'), hex);
  });
}

test('unmapIPv4', (t) => {
  t.is(unmapIPv4('::ffff:127.1.2.3'), '127.1.2.3');
  t.is(unmapIPv4('::FFFF:127.1.2.3'), '127.1.2.3');
  t.is(unmapIPv4('::ffff:1'), '::ffff:1');
  t.is(unmapIPv4('127.0.0.1'), '127.0.0.1');
});
