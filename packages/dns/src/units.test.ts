import test from 'ava';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Answer as PacketRR } from 'dns-packet';
import { ReplyCache } from './cache.js';
import { ClientAcl } from './acl.js';
import { parseUpstream } from './forwarder.js';
import { parseResolvConf, upstreamsFromResolvConf } from './resolvconf.js';
import { clientPayloadSize, validName } from './wire.js';

const a = (ttl: number): PacketRR => ({ name: 'x.test', type: 'A', ttl, class: 'IN', data: '127.0.0.1' });
const soa = (ttl: number, minimum: number): PacketRR => ({
  name: 'test', type: 'SOA', ttl, class: 'IN',
  data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum },
});

test('cache keeps a reply for its smallest TTL and ages the TTLs', (t) => {
  let now = 1_000_000;
  const c = new ReplyCache({}, () => now);
  const k = ReplyCache.key('X.test.', 'A', 'IN');
  c.put(k, { rcode: 'NOERROR', answers: [a(30), a(10)] } as never);
  now += 4000;
  t.deepEqual(c.get(ReplyCache.key('x.test', 'A', 'IN'))?.answers.map((r) => (r as { ttl: number }).ttl), [26, 6]);
  now += 6000;
  t.is(c.get(k), undefined);
});

const negative: [string, PacketRR[], number | undefined][] = [
  ['SOA ttl smaller', [soa(3, 60)], 3],
  ['SOA minimum smaller', [soa(60, 2)], 2],
  ['no SOA: not cached', [], undefined],
];
for (const [name, authorities, life] of negative) {
  test(`negative caching: ${name}`, (t) => {
    let now = 0;
    const c = new ReplyCache({}, () => now);
    c.put('k', { rcode: 'NXDOMAIN', answers: [], authorities } as never);
    if (life === undefined) return t.is(c.size, 0);
    now = life * 1000 - 1;
    t.truthy(c.get('k'));
    now = life * 1000;
    t.is(c.get('k'), undefined);
  });
}

test('cache: SERVFAIL and zero TTL are not kept; maxTtl caps; maxEntries evicts the oldest', (t) => {
  let now = 0;
  const c = new ReplyCache({ maxEntries: 2, maxTtl: 5 }, () => now);
  c.put('fail', { rcode: 'SERVFAIL', answers: [a(30)] } as never);
  c.put('zero', { rcode: 'NOERROR', answers: [a(0)] } as never);
  t.is(c.size, 0);
  c.put('a', { rcode: 'NOERROR', answers: [a(300)] } as never);
  c.put('b', { rcode: 'NOERROR', answers: [a(300)] } as never);
  c.put('c', { rcode: 'NOERROR', answers: [a(300)] } as never);
  t.is(c.get('a'), undefined);
  t.truthy(c.get('c'));
  now = 5000;
  t.is(c.get('c'), undefined);
});

const acl: [string[], string, boolean][] = [
  [['127.0.0.0/8'], '127.1.2.3', true],
  [['127.0.0.0/8'], '::ffff:127.0.0.1', true],
  [['127.0.0.0/8'], '::1', false],
  [['::1/128'], '::1', true],
  [['127.0.0.1'], '127.0.0.1', true],
  [['127.0.0.1'], '127.0.0.2', false],
  [[], '127.0.0.1', false],
  [['0.0.0.0/0', '::/0'], 'fd00::1', true],
];
for (const [cidrs, addr, want] of acl) {
  test(`acl ${cidrs.join(',') || '(none)'} ${addr}`, (t) => t.is(new ClientAcl(cidrs).allows(addr), want));
}

test('acl answers the same when asked again (memoized) and past the memo size', (t) => {
  const a = new ClientAcl(['127.0.0.0/24']);
  for (let round = 0; round < 2; round++) {
    // 5,000 distinct clients: more than the memo keeps, so it starts over on the way.
    for (let i = 0; i < 5000; i++) {
      const addr = `127.0.${i >> 8}.${i & 255}`;
      if (a.allows(addr) !== i < 256) return t.fail(`${addr} round ${round}`);
    }
  }
  t.pass();
});

test('acl rejects bad CIDRs', (t) => {
  for (const bad of ['127.0.0.0/33', 'x/8', '::1/129', '1.2.3.4/8/9', '1.2.3.4/-1']) {
    t.throws(() => new ClientAcl([bad]), { message: /invalid CIDR/ }, bad);
  }
});

const upstreams: [string, { host: string; port: number; family: number } | null][] = [
  ['127.0.0.53', { host: '127.0.0.53', port: 53, family: 4 }],
  ['127.0.0.1:5353', { host: '127.0.0.1', port: 5353, family: 4 }],
  ['::1', { host: '::1', port: 53, family: 6 }],
  ['[::1]:5353', { host: '::1', port: 5353, family: 6 }],
  ['host.example:53', null],
  ['127.0.0.1:0', null],
  ['127.0.0.1:99999', null],
];
for (const [text, want] of upstreams) {
  test(`upstream ${text}`, (t) => {
    if (want) t.deepEqual(parseUpstream(text), want as never);
    else t.throws(() => parseUpstream(text));
  });
}

test('resolv.conf parsing', (t) => {
  const text = '# comment\nsearch a.svc.cluster.local\nnameserver 127.0.0.53\nnameserver ::1 ; trailing\nnameserver fe80::1%eth0\nnameserver bogus\noptions ndots:5\n';
  t.deepEqual(parseResolvConf(text), ['127.0.0.53:53', '[::1]:53', '[fe80::1%eth0]:53']);
  const dir = mkdtempSync(join(tmpdir(), 'knet-dns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'resolv.conf'), text);
  t.deepEqual(upstreamsFromResolvConf(join(dir, 'resolv.conf')), ['127.0.0.53:53', '[::1]:53', '[fe80::1%eth0]:53']);
  t.throws(() => upstreamsFromResolvConf(join(dir, 'missing')), { message: /cannot read resolver configuration/ });
});

const sizes: [number | undefined, number][] = [
  [undefined, 512],
  [100, 512],
  [1232, 1232],
  [65535, 65507],
];
for (const [offered, want] of sizes) {
  test(`client payload size ${offered}`, (t) => t.is(clientPayloadSize(offered), want));
}

const names: [string, boolean][] = [
  ['a.b', true],
  ['.', true],
  ['a..b', false],
  [`${'x'.repeat(64)}.b`, false],
  [Array.from({ length: 130 }, () => 'ab').join('.'), false],
];
for (const [n, want] of names) {
  test(`valid name ${n.slice(0, 20)}`, (t) => t.is(validName(n), want));
}
