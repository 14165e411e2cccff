import test from 'ava';
import { IpamError } from './errors.js';
import { PortAllocator, parsePortRange } from './port-allocator.js';
import { seededRandom } from '@knet/component/testing';

// [range, size, band] — band = min(max(16, size/32), 128), none for ≤ 16 ports (KEP-3668).
const shapes: [string, number, number][] = [
  ['30000-32767', 2768, 86],
  ['30000-30099', 100, 16],
  ['30000-30015', 16, 0],
  ['20000-29999', 10000, 128],
  ['30000', 1, 0],
  [' 30000 - 30010 ', 11, 0],
];
for (const [range, size, band] of shapes) {
  test(`port range ${JSON.stringify(range)}: ${size} ports, static band ${band}`, (t) => {
    const a = new PortAllocator(range);
    t.is(a.size, size);
    t.is(a.staticBandSize, band);
  });
}

for (const bad of ['', 'x-y', '30000-', '0-10', '32767-30000', '30000-70000', '1-2-3']) {
  test(`port range ${JSON.stringify(bad)} is refused`, (t) => {
    const err = t.throws(() => parsePortRange(bad), { instanceOf: IpamError });
    t.is(err!.code, 'InvalidArgument');
  });
}

// [port, error code or null]
const specific: [number, string | null][] = [
  [30000, null],
  [32767, null],
  [29999, 'NotInRange'],
  [32768, 'NotInRange'],
  [80, 'NotInRange'],
  [30000.5, 'NotInRange'],
];
for (const [port, code] of specific) {
  test(`NodePort ${port} in 30000-32767: ${code ?? 'ok'}`, (t) => {
    const a = new PortAllocator('30000-32767');
    if (code === null) {
      a.allocate(port);
      t.true(a.has(port));
      const err = t.throws(() => a.allocate(port), { instanceOf: IpamError });
      t.is(err!.message, 'provided port is already allocated');
    } else {
      const err = t.throws(() => a.allocate(port), { instanceOf: IpamError });
      t.is(err!.code as string, code);
      t.is(err!.message, 'provided port is not in the valid range. The range of valid ports is 30000-32767');
      t.is(err!.range, '30000-32767');
    }
  });
}

test('dynamic NodePorts come from above the static band until it is exhausted', (t) => {
  const a = new PortAllocator('30000-30099', { random: seededRandom(5) });
  const upper = Array.from({ length: 84 }, () => a.allocateNext());
  t.true(upper.every((p) => p >= 30016 && p <= 30099));
  t.is(new Set(upper).size, 84);
  const lower = Array.from({ length: 16 }, () => a.allocateNext());
  t.true(lower.every((p) => p >= 30000 && p < 30016));
  const err = t.throws(() => a.allocateNext(), { instanceOf: IpamError });
  t.is(err!.code, 'RangeFull');
  t.true(a.release(30050));
  t.is(a.allocateNext(), 30050);
});

test('snapshot/restore of ports', (t) => {
  const a = new PortAllocator('30000-32767', { random: seededRandom(9) });
  for (let i = 0; i < 100; i++) a.allocateNext();
  const b = new PortAllocator('30000-32767');
  b.restore(a.snapshot());
  t.deepEqual(b.allocated(), a.allocated());
});
