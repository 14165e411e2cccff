import test from 'ava';
import type { Pod } from '@knet/api';
import { podChanged } from './controller.js';

const base = (): Pod => ({
  metadata: { name: 'p', namespace: 'default', labels: { app: 'web' }, resourceVersion: '1' },
  spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 80 }] }] },
  status: { phase: 'Running', podIP: '127.244.0.1', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
});

const cases: [string, (p: Pod) => void, boolean][] = [
  ['only the resourceVersion', (p) => (p.metadata.resourceVersion = '2'), false],
  ['an annotation', (p) => (p.metadata.annotations = { a: 'b' }), false],
  ['labels', (p) => (p.metadata.labels = { app: 'db' }), true],
  ['readiness', (p) => (p.status!.conditions = [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }]), true],
  ['ready transition time', (p) => (p.status!.conditions = [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:09Z' }]), true],
  ['pod IP', (p) => (p.status!.podIP = '127.244.0.2'), true],
  ['terminating', (p) => (p.metadata.deletionTimestamp = '2026-01-01T00:00:00Z'), true],
  ['phase', (p) => (p.status!.phase = 'Succeeded'), true],
  ['node', (p) => (p.spec.nodeName = 'n2'), true],
  ['hostname', (p) => (p.spec.hostname = 'h'), true],
  ['container ports', (p) => (p.spec.containers[0].ports = [{ name: 'http', containerPort: 81 }]), true],
];
for (const [name, mutate, want] of cases) {
  test(`podChanged: ${name}`, (t) => {
    const cur = base();
    mutate(cur);
    t.is(podChanged(base(), cur), want);
  });
}
