import test from 'ava';
import { sameSettings } from './dataplane.js';
import type { ServiceEntry } from './types.js';

const base: ServiceEntry = {
  key: 'k',
  address: '127.96.0.1',
  port: 80,
  protocol: 'TCP',
  backends: [{ address: '127.244.0.2', port: 8080, ready: true, serving: true, terminating: false }],
  labels: { service: 'default/web', port: '80' },
};

const cases: Array<[string, Partial<ServiceEntry>, boolean]> = [
  ['identical copy', {}, true],
  ['labels in another order', { labels: { port: '80', service: 'default/web' } }, true],
  ['nodeLocal false equals absent', { backends: [{ ...base.backends[0]!, nodeLocal: false }] }, true],
  ['localOnly false equals absent', { localOnly: false }, true],
  ['address/port are not settings (they re-bind)', { port: 81 }, true],
  ['backend port', { backends: [{ ...base.backends[0]!, port: 8081 }] }, false],
  ['backend ready', { backends: [{ ...base.backends[0]!, ready: false }] }, false],
  ['backend terminating', { backends: [{ ...base.backends[0]!, terminating: true }] }, false],
  ['backend nodeLocal', { backends: [{ ...base.backends[0]!, nodeLocal: true }] }, false],
  ['one more backend', { backends: [...base.backends, { ...base.backends[0]!, address: '127.244.0.3' }] }, false],
  ['affinity added', { affinity: { type: 'ClientIP', timeoutSeconds: 10 } }, false],
  ['proxy protocol', { proxyProtocol: 'v2' }, false],
  ['localOnly', { localOnly: true }, false],
  ['label value', { labels: { service: 'default/web', port: '81' } }, false],
  ['label removed', { labels: { service: 'default/web' } }, false],
  ['labels gone', { labels: undefined }, false],
];

for (const [name, over, want] of cases) {
  test(`sameSettings: ${name}`, (t) => {
    t.is(sameSettings(base, { ...base, ...over }), want);
  });
}

test('sameSettings: affinity timeout', (t) => {
  const a: ServiceEntry = { ...base, affinity: { type: 'ClientIP', timeoutSeconds: 10 } };
  t.true(sameSettings(a, { ...a, affinity: { type: 'ClientIP', timeoutSeconds: 10 } }));
  t.false(sameSettings(a, { ...a, affinity: { type: 'ClientIP', timeoutSeconds: 11 } }));
});
