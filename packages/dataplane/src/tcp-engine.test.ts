import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import test from 'ava';
import { Dataplane } from './dataplane.js';
import { nativeAddon } from './native-addon.js';
import { resolveTcpEngine } from './tcp-engine.js';

test('on Linux the native TCP engine is the one loaded by default (a failed addon build fails here)', (t) => {
  if (process.platform !== 'linux') {
    t.pass('not Linux: the JS engine is the portable default');
    return;
  }
  t.true('addon' in nativeAddon, 'error' in nativeAddon ? nativeAddon.error : '');
  t.is(resolveTcpEngine(undefined, undefined), 'native');
  t.is(new Dataplane().tcpEngine, process.env['KNET_TCP_ENGINE'] === 'js' ? 'js' : 'native');
});

test('tcpEngine: the option wins over KNET_TCP_ENGINE; anything else is a RangeError', (t) => {
  t.is(resolveTcpEngine('js', 'native'), 'js');
  t.is(resolveTcpEngine(undefined, 'js'), 'js');
  t.is(new Dataplane({ tcpEngine: 'js' }).tcpEngine, 'js');
  t.throws(() => resolveTcpEngine(undefined, 'fast'), { instanceOf: RangeError, message: /must be 'native' or 'js'/ });
  t.throws(() => new Dataplane({ tcpEngine: 'turbo' as 'js' }), { instanceOf: RangeError });
});

/** Whether this kernel lets a process use io_uring: Linux 6.1 or later (DEFER_TASKRUN) and not disabled by sysctl. */
function kernelAllowsIoUring(): boolean {
  const [major = 0, minor = 0] = release().split('.').map(Number);
  if (process.platform !== 'linux' || major * 1000 + minor < 6001) return false;
  try {
    return readFileSync('/proc/sys/kernel/io_uring_disabled', 'utf8').trim() === '0';
  } catch {
    return true; // before 6.6 there is no such switch
  }
}

test('ioUring: the native engine uses it where the kernel allows it; never with ioUring false or the JS engine', (t) => {
  t.is(new Dataplane({ tcpEngine: 'native' }).ioUring, kernelAllowsIoUring() && process.env['KNET_IO_URING'] !== '0');
  t.false(new Dataplane({ tcpEngine: 'native', ioUring: false }).ioUring);
  t.false(new Dataplane({ tcpEngine: 'js', ioUring: true }).ioUring);
  t.throws(() => new Dataplane({ ioUring: 'yes' as unknown as boolean }), { instanceOf: RangeError, message: /ioUring: must be true or false/ });
});

test('a KNET_IO_URING_BUFFERS the engine cannot use is refused by name, not ignored', (t) => {
  const saved = process.env['KNET_IO_URING_BUFFERS'];
  try { // restored before any other test of this file runs: the body is synchronous
    for (const bad of ['', '0', '3', '8192', '64k', '-8', '1.5']) {
      process.env['KNET_IO_URING_BUFFERS'] = bad;
      t.throws(() => new Dataplane(), { instanceOf: RangeError, message: `KNET_IO_URING_BUFFERS: must be a power of two from 1 to 4096, got ${JSON.stringify(bad)}` }, bad);
    }
    for (const good of ['1', '64', '4096']) {
      process.env['KNET_IO_URING_BUFFERS'] = good;
      t.notThrows(() => new Dataplane(), good);
    }
  } finally {
    if (saved === undefined) delete process.env['KNET_IO_URING_BUFFERS'];
    else process.env['KNET_IO_URING_BUFFERS'] = saved;
  }
});
