import test from 'ava';
import { cidrContains, nodeInternalIPs, parseCidr, resolveNodePortAddresses } from './addresses.js';

const contains: [string, string, boolean][] = [
  ['127.0.0.0/8', '127.1.2.3', true],
  ['127.0.0.0/8', '128.0.0.1', false],
  ['127.0.0.1', '127.0.0.1', true],
  ['127.0.0.1', '127.0.0.2', false],
  ['0.0.0.0/0', '1.2.3.4', true],
  ['fd00::/108', 'fd00::1', true],
  ['fd00::/108', 'fd00:1::1', false],
  ['::ffff:0:0/96', '::ffff:127.0.0.1', true],
  ['127.0.0.0/8', '::1', false],
];
for (const [cidr, ip, want] of contains) {
  test(`cidrContains(${cidr}, ${ip}) = ${want}`, (t) => t.is(cidrContains(parseCidr(cidr), ip), want));
}

for (const bad of ['127.0.0.0/33', 'fd00::/129', 'nope', '127.0.0.0/x', '']) {
  test(`parseCidr rejects ${JSON.stringify(bad)}`, (t) => {
    t.throws(() => parseCidr(bad), { instanceOf: TypeError });
  });
}

const resolve: [string, string[], string[], string[], string[]][] = [
  ['default: node InternalIPs', [], ['127.0.0.1'], ['127.0.0.1', '192.0.2.1'], ['127.0.0.1']],
  ['primary', ['primary'], ['127.0.0.1', '::1'], [], ['127.0.0.1', '::1']],
  ['CIDR selects candidates', ['127.0.0.0/8'], ['192.0.2.1'], ['127.0.0.1', '127.0.0.2', '::1'], ['127.0.0.1', '127.0.0.2']],
  ['bare IP used as given', ['127.121.6.1'], ['127.0.0.1'], [], ['127.121.6.1']],
  ['several, deduplicated', ['127.0.0.1/32', '127.0.0.0/8'], ['127.0.0.1'], ['127.0.0.1'], ['127.0.0.1']],
];
for (const [name, flag, nodeIPs, candidates, want] of resolve) {
  test(`resolveNodePortAddresses: ${name}`, (t) => t.deepEqual(resolveNodePortAddresses(flag, nodeIPs, candidates), want));
}

test('nodeInternalIPs picks InternalIP addresses only', (t) => {
  t.deepEqual(
    nodeInternalIPs({
      metadata: { name: 'n' },
      status: { addresses: [{ type: 'Hostname', address: 'n' }, { type: 'InternalIP', address: '127.0.0.1' }, { type: 'ExternalIP', address: '192.0.2.1' }] },
    }),
    ['127.0.0.1'],
  );
  t.deepEqual(nodeInternalIPs(undefined), []);
});
