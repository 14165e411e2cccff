// The per-sync fast paths against the straightforward computations they replaced, over random inputs
// (Endpoints subsets packed as they are added), and the orderings and keys they rely on.
import test from 'ava';
import type { Endpoint, EndpointAddress, EndpointPort, EndpointSubset, Pod, ServicePort } from '@knet/api';
import { desiredEndpoints } from './endpoints.js';
import { findPort, isIPv6, isPodReady, podIPs, podReference, shouldPodBeInEndpoints } from './pod.js';
import { compareAddresses, repackSubsets } from './repack.js';
import { endpointKey } from './slice-util.js';
import { pod, service } from './testing/fixtures.js';

/** A small seeded generator (mulberry32): failures reproduce. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The subsets as computed before the fast path: one subset per Pod and port, then repackSubsets. */
function referenceSubsets(svcPorts: ServicePort[], headless: boolean, publishNotReady: boolean, v6: boolean, pods: Pod[]): EndpointSubset[] {
  const raw: EndpointSubset[] = [];
  for (const p of pods) {
    if (!shouldPodBeInEndpoints(p, publishNotReady)) continue;
    const ip = podIPs(p).find((x) => isIPv6(x) === v6);
    if (!ip) continue;
    const addr: EndpointAddress = { ip, targetRef: podReference(p) };
    const ready = publishNotReady || isPodReady(p);
    const subset = (port: EndpointPort | undefined): EndpointSubset => ({ ...(ready ? { addresses: [addr] } : { notReadyAddresses: [addr] }), ...(port ? { ports: [port] } : {}) });
    if (svcPorts.length === 0) {
      if (headless) raw.push(subset(undefined));
      continue;
    }
    for (const sp of svcPorts) {
      const n = findPort(p, sp);
      if (n === undefined) continue;
      const ep: EndpointPort = { name: sp.name ?? '', port: n, protocol: sp.protocol ?? 'TCP' };
      if (!ep.name) delete ep.name;
      if (sp.appProtocol) ep.appProtocol = sp.appProtocol;
      raw.push(subset(ep));
    }
  }
  return repackSubsets(raw);
}

test('desiredEndpoints: the subsets equal one subset per Pod and port repacked, over random Pods and ports', (t) => {
  const r = rng(7);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  for (let round = 0; round < 300; round++) {
    const portChoices: ServicePort[] = [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'web', port: 81, targetPort: 'web' },
      { name: 'num', port: 82, targetPort: '9090', protocol: 'TCP', appProtocol: 'h2c' },
      { name: 'dns', port: 53, protocol: 'UDP' },
      { name: 'named-udp', port: 54, targetPort: 'web', protocol: 'UDP' },
    ];
    const svcPorts = portChoices.filter(() => r() < 0.4);
    const headless = r() < 0.3;
    const publishNotReady = r() < 0.2;
    const v6 = r() < 0.2;
    const svc = service({ ports: svcPorts, clusterIP: headless ? 'None' : v6 ? 'fd00::20' : '127.96.0.20', ipFamilies: [v6 ? 'IPv6' : 'IPv4'], publishNotReadyAddresses: publishNotReady });
    const pods: Pod[] = [];
    const n = Math.floor(r() * 12);
    for (let i = 0; i < n; i++) {
      const v4 = `127.244.${Math.floor(r() * 3)}.${Math.floor(r() * 300)}`;
      const ip = pick<string | string[] | undefined>([v4, [v4, `fd00::${i + 1}`], `fd00::${i + 1}`, undefined, v4]);
      pods.push(
        pod({
          name: `p${i}`,
          ip,
          ready: r() < 0.6,
          terminating: r() < 0.15,
          phase: pick(['Running', 'Running', 'Pending', 'Succeeded']),
          ports: r() < 0.5 ? [{ name: 'web', containerPort: 7000 + i, protocol: pick(['TCP', 'UDP'] as const) }] : undefined,
        }),
      );
    }
    const got = desiredEndpoints(svc, pods)!.subsets;
    t.deepEqual(got, referenceSubsets(svcPorts, headless, publishNotReady, v6, pods), `round ${round}`);
  }
});

test('compareAddresses: IPv4 in numeric order, anything else in string order, then by Pod uid', (t) => {
  const before: [string, string][] = [
    ['127.0.0.255', '127.0.1.0'],
    ['127.2.3.255', '127.2.4.0'],
    ['127.9.255.255', '127.10.0.2'],
    ['127.0.0.2', '127.0.0.10'],
    ['fd00::10', 'fd00::9'], // string order
    ['127.0.0.1.5', '127.0.0.2'], // not four numbers: string order
  ];
  for (const [a, b] of before) {
    t.true(compareAddresses({ ip: a }, { ip: b }) < 0, `${a} before ${b}`);
    t.true(compareAddresses({ ip: b }, { ip: a }) > 0, `${b} after ${a}`);
  }
  const ref = (uid: string) => ({ kind: 'Pod', uid });
  t.true(compareAddresses({ ip: '127.0.0.1', targetRef: ref('a') }, { ip: '127.0.0.1', targetRef: ref('b') }) < 0);
  t.is(compareAddresses({ ip: '127.0.0.1', targetRef: ref('a') }, { ip: '127.0.0.1', targetRef: ref('a') }), 0);
});

test('endpointKey: two endpoints share a key exactly when their identities (as JSON) are equal', (t) => {
  const r = rng(5);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const strs = ['', 'a', 'b', 'a\u0000b', '\u0000', '"', 'a"', '1', '127.0.0.1'];
  const gen = (): Endpoint => {
    const ep: Endpoint = { addresses: Array.from({ length: Math.floor(r() * 3) }, () => pick(strs)), conditions: {} };
    if (r() < 0.5) ep.hostname = pick(strs);
    if (r() < 0.8) ep.targetRef = { kind: 'Pod', namespace: pick(strs), name: pick(strs) };
    return ep;
  };
  const identity = (ep: Endpoint) => JSON.stringify([[...ep.addresses].sort(), ep.hostname ?? '', ep.targetRef?.namespace ?? '', ep.targetRef?.name ?? '']);
  // Pairs that a plain NUL join would confuse.
  const ref = (namespace: string, name = 'p') => ({ kind: 'Pod', namespace, name });
  const tricky: [Endpoint, Endpoint][] = [
    [{ addresses: ['a'], hostname: '\u0000', targetRef: ref('') }, { addresses: ['a'], hostname: '', targetRef: ref('\u0000') }],
    [{ addresses: ['a'], hostname: 'b\u0000', targetRef: ref('n') }, { addresses: ['a\u0000b'], hostname: '', targetRef: ref('n') }],
    [{ addresses: ['a\u0000b'] }, { addresses: ['a', 'b'] }],
  ];
  for (const [a, b] of tricky) t.not(endpointKey(a), endpointKey(b), `${identity(a)} vs ${identity(b)}`);
  let same = 0;
  for (let i = 0; i < 20000; i++) {
    const a = gen();
    // Often the same identity, addresses in another order and other fields changed.
    const b = r() < 0.3 ? { ...a, addresses: [...a.addresses].reverse(), conditions: { ready: true }, nodeName: 'n' } : gen();
    const equal = identity(a) === identity(b);
    if (equal) same++;
    t.is(endpointKey(a) === endpointKey(b), equal, `${identity(a)} vs ${identity(b)}`);
  }
  t.true(same > 50, 'the generator makes equal identities too');
});
