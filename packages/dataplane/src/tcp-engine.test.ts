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
