import test from 'ava';
import { IPAllocator } from './bitmap-allocator.js';
import { parseIP } from './cidr.js';
import { IpamError } from './errors.js';
import { seededRandom } from '@knet/component/testing';

// [cidr, allocatable size, static band size] — band = min(max(16, cidrSize/16), 256), none for ≤ 16 addresses.
const shapes: [string, number, number][] = [
  ['127.96.0.0/12', (1 << 20) - 2, 256],
  ['127.96.0.0/20', 4094, 256],
  ['127.96.0.0/22', 1022, 64],
  ['127.96.0.0/24', 254, 16],
  ['127.96.0.0/27', 30, 16],
  ['127.96.0.0/28', 14, 0],
  ['127.96.0.0/30', 2, 0],
  ['127.96.0.0/31', 0, 0],
  ['127.96.0.0/32', 0, 0],
  ['fd00::/108', (1 << 20) - 1, 256], // IPv6: no broadcast, only the network address is skipped
  ['fd00::/120', 255, 16],
  ['fd00::/124', 15, 0],
];
for (const [cidr, size, band] of shapes) {
  test(`shape of ${cidr}: ${size} allocatable, static band ${band}`, (t) => {
    const a = new IPAllocator(cidr);
    t.is(a.size, size);
    t.is(a.staticBandSize, band);
    t.is(a.free, size);
  });
}

test('ranges larger than 20 host bits are refused like kube-apiserver does', (t) => {
  for (const [cidr, want] of [
    ['127.0.0.0/8', 'the mask must be >= 12'],
    ['fd00::/64', 'the mask must be >= 108'],
  ]) {
    const err = t.throws(() => new IPAllocator(cidr!), { instanceOf: IpamError });
    t.is(err!.code, 'InvalidArgument');
    t.true(err!.message.includes(want!));
  }
});

// [cidr, ip, allocatable?]
const membership: [string, string, boolean][] = [
  ['127.96.0.0/24', '127.96.0.0', false], // network
  ['127.96.0.0/24', '127.96.0.255', false], // broadcast
  ['127.96.0.0/24', '127.96.0.1', true], // first usable: the `kubernetes` Service takes it by request
  ['127.96.0.0/24', '127.96.0.254', true],
  ['127.96.0.0/24', '127.96.1.1', false],
  ['127.96.0.0/24', 'fd00::1', false],
  ['127.96.0.0/24', 'garbage', false],
  ['fd00::/120', 'fd00::', false], // subnet-router anycast
  ['fd00::/120', 'fd00::ff', true], // no broadcast in IPv6
  ['fd00::/120', 'fd00::100', false],
  ['fd00::/120', '0:0:0:0:0:0:0:0', false],
];
for (const [cidr, ip, want] of membership) {
  test(`${cidr} ${want ? 'allocates' : 'refuses'} ${ip}`, (t) => {
    const a = new IPAllocator(cidr);
    t.is(a.contains(ip), want);
    if (want) {
      a.allocate(ip);
      t.true(a.has(ip));
    } else {
      const err = t.throws(() => a.allocate(ip), { instanceOf: IpamError });
      t.is(err!.code, 'NotInRange');
      t.is(err!.message, `provided IP is not in the valid range. The range of valid IPs is ${a.range}`);
      t.is(err!.range, a.range);
    }
  });
}

test('a specific IP allocated twice is AlreadyAllocated', (t) => {
  const a = new IPAllocator('127.96.0.0/12');
  a.allocate('127.96.0.10');
  const err = t.throws(() => a.allocate('127.96.0.10'), { instanceOf: IpamError });
  t.is(err!.code, 'AlreadyAllocated');
  t.is(err!.message, 'provided IP is already allocated');
});

function offsetOf(a: IPAllocator, ip: string): number {
  return Number(parseIP(ip)!.value - a.cidr.network - 1n);
}

for (const cidr of ['127.96.0.0/24', '127.96.0.0/26', 'fd00::/120']) {
  test(`${cidr}: dynamic allocation fills the upper band first, then the static band, then is full`, (t) => {
    const a = new IPAllocator(cidr, { random: seededRandom(7) });
    const band = a.staticBandSize;
    const seen = new Set<string>();
    for (let i = 0; i < a.size - band; i++) {
      const ip = a.allocateNext();
      t.true(offsetOf(a, ip) >= band, `${ip} is above the static band`);
      seen.add(ip);
    }
    for (let i = 0; i < band; i++) {
      const ip = a.allocateNext();
      t.true(offsetOf(a, ip) < band, `${ip} is in the static band`);
      seen.add(ip);
    }
    t.is(seen.size, a.size);
    t.is(a.free, 0);
    const err = t.throws(() => a.allocateNext(), { instanceOf: IpamError });
    t.is(err!.code, 'RangeFull');
    t.is(err!.message, 'range is full');
    t.is(err!.range, a.range);
    t.false(seen.has(formatNetwork(a)));
  });
}

function formatNetwork(a: IPAllocator): string {
  return a.range.split('/')[0]!;
}

test('release frees an address for reuse; releasing a free or foreign address is a no-op', (t) => {
  const a = new IPAllocator('127.96.0.0/28');
  const all = Array.from({ length: a.size }, () => a.allocateNext());
  t.throws(() => a.allocateNext(), { instanceOf: IpamError });
  t.true(a.release(all[3]!));
  t.false(a.release(all[3]!));
  t.false(a.release('127.1.2.3'));
  t.false(a.release('nonsense'));
  t.is(a.allocateNext(), all[3]);
});

test('snapshot/restore round-trips, and refuses another range', (t) => {
  const a = new IPAllocator('fd00::/116', { random: seededRandom(1) });
  const taken = Array.from({ length: 500 }, () => a.allocateNext());
  const b = new IPAllocator('fd00::/116');
  b.restore(a.snapshot());
  t.is(b.used, 500);
  t.deepEqual(b.allocated(), [...taken].sort((x, y) => offsetOf(a, x) - offsetOf(a, y)));
  const c = new IPAllocator('fd00::/120');
  t.throws(() => c.restore(a.snapshot()), { instanceOf: IpamError });
});

test('10,000 dynamic allocations out of a /18 are all distinct', (t) => {
  const a = new IPAllocator('127.96.0.0/18', { random: seededRandom(42) });
  const seen = new Set<string>();
  for (let i = 0; i < 10_000; i++) seen.add(a.allocateNext());
  t.is(seen.size, 10_000);
  t.is(a.used, 10_000);
});

test('a nearly full /12 still finds its last free addresses', (t) => {
  const a = new IPAllocator('127.96.0.0/12', { random: seededRandom(3) });
  const snap = a.snapshot();
  snap.data.fill(0xff);
  a.restore(snap);
  // Free three addresses by hand: one in the static band, two above it.
  for (const ip of ['127.96.0.5', '127.100.0.1', '127.111.255.254']) t.true(a.release(ip));
  const got = [a.allocateNext(), a.allocateNext(), a.allocateNext()];
  t.deepEqual(got.slice(0, 2).sort(), ['127.100.0.1', '127.111.255.254']);
  t.is(got[2], '127.96.0.5');
});
