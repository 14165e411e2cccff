import test from 'ava';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodIPAllocator } from './pod-ip.js';

const dir = () => mkdtempSync(join(tmpdir(), 'knet-podip-'));

test('hands out distinct addresses from the range, skipping network, gateway and broadcast', (t) => {
  const a = new PodIPAllocator(dir(), '127.244.0.0/29');
  const ips = Array.from({ length: 5 }, (_, i) => a.allocate(`ns/p${i}`));
  t.deepEqual(ips, ['127.244.0.2', '127.244.0.3', '127.244.0.4', '127.244.0.5', '127.244.0.6']);
  t.throws(() => a.allocate('ns/p6'), { message: /pod range is full/ });
  a.release('127.244.0.4');
  t.is(a.allocate('ns/p7'), '127.244.0.4');
});

test('an address whose holder died is reclaimed, a live holder keeps its own', (t) => {
  const d = dir();
  writeFileSync(join(d, '127.244.0.2'), '999999999 ns/dead\n');
  writeFileSync(join(d, '127.244.0.3'), `${process.ppid} ns/alive\n`);
  const a = new PodIPAllocator(d, '127.244.0.0/24');
  t.is(a.allocate('ns/new'), '127.244.0.2');
  t.is(a.allocate('ns/other'), '127.244.0.4');
});

test('processes allocating at once never share an address', async (t) => {
  const d = dir();
  const script = `import('${new URL('./pod-ip.js', import.meta.url).href}').then(({ PodIPAllocator }) => {
    const a = new PodIPAllocator(process.argv[1], '127.244.0.0/24');
    const ips = []; for (let i = 0; i < 20; i++) ips.push(a.allocate('ns/p' + i));
    console.log(JSON.stringify(ips));
    process.stdin.resume(); // hold the addresses until the test has every answer
  });`;
  const children = Array.from({ length: 6 }, () => spawn(process.execPath, ['-e', script, d]));
  t.teardown(() => children.forEach((c) => c.kill('SIGKILL')));
  const outputs = await Promise.all(
    children.map(
      (child) =>
        new Promise<string[]>((resolve, reject) => {
          let out = '';
          child.stdout.on('data', (c) => {
            out += c;
            if (out.endsWith('\n')) resolve(JSON.parse(out) as string[]);
          });
          child.on('error', reject);
        }),
    ),
  );
  const all = outputs.flat();
  t.is(all.length, 120);
  t.is(new Set(all).size, 120);
});

test('a search from an offset goes on past the end of the range to its start', (t) => {
  const a = new PodIPAllocator(dir(), '127.244.0.0/29');
  t.is(a.allocate('ns/a', 3), '127.244.0.5');
  t.is(a.allocate('ns/b', 4), '127.244.0.6');
  t.is(a.allocate('ns/c', 4), '127.244.0.2');
  t.is(a.allocate('ns/d', 5), '127.244.0.3');
});
