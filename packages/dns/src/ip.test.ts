import test from 'ava';
import { canonicalIP, dashedIP, ipFromDashed, ipFromReverseName, reverseName } from './ip.js';

const canonical: [string, string | null][] = [
  ['127.1.2.3', '127.1.2.3'],
  ['FD00:0:0:0:0:0:0:1', 'fd00::1'],
  ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
  ['::', '::'],
  ['::1', '::1'],
  ['1::', '1::'],
  ['::ffff:1.2.3.4', '::ffff:102:304'],
  ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2:3:4:5:6'],
  ['fd00:0:1::', 'fd00:0:1::'],
  ['not-an-ip', null],
  ['1.2.3', null],
  ['1.2.3.256', null],
];
for (const [input, want] of canonical) {
  test(`canonicalIP ${input}`, (t) => t.is(canonicalIP(input), want));
}

const reverse: [string, string][] = [
  ['127.96.0.42', '42.0.96.127.in-addr.arpa'],
  ['fd00::a', 'a.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa'],
];
for (const [ip, name] of reverse) {
  test(`reverse name round trip ${ip}`, (t) => {
    t.is(reverseName(ip), name);
    t.is(ipFromReverseName(name), ip);
  });
}

test('partial or malformed reverse names are not addresses', (t) => {
  t.is(ipFromReverseName('96.127.in-addr.arpa'), null);
  t.is(ipFromReverseName('1.0.96.300.in-addr.arpa'), null);
  t.is(ipFromReverseName('01.0.96.127.in-addr.arpa'), null);
  t.is(ipFromReverseName('x.ip6.arpa'), null);
});

const dashed: [string, string][] = [
  ['127.244.1.5', '127-244-1-5'],
  ['fd00::5', 'fd00--5'],
  ['::1', '--1'],
];
for (const [ip, label] of dashed) {
  test(`dashed form ${ip}`, (t) => {
    t.is(dashedIP(ip), label);
    t.is(ipFromDashed(label), ip);
  });
}

test('dashed labels that are not addresses', (t) => {
  t.is(ipFromDashed('web'), null);
  t.is(ipFromDashed('1-2-3'), null);
  t.is(ipFromDashed('1-2-3-999'), null);
});
