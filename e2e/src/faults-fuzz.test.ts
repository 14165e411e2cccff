// 10,000 randomly mutated valid objects (seeded, so a failure can be replayed with FUZZ_SEED) sent to
// every write endpoint of the apiserver: POST, PUT and PATCH (merge, JSON, strategic), objects and
// status subresources. Only 4xx, or 2xx for mutations that happen to be valid; never a 5xx, never a
// crash; and rejected writes leave the store alone: the resourceVersion advances exactly once per
// accepted change.
import test from 'ava';
import { startCluster, type TestCluster } from '@knet/knet-app/testing';
import { apiRequest, restarts, seededRandom, until } from './harness.js';

const REQUESTS = 10_000;
const CONCURRENCY = 16;
const SEED = Number(process.env['FUZZ_SEED'] ?? 20261126);
const NS = 'fuzz';
const TARGETS = 4;

type J = null | boolean | number | string | J[] | { [k: string]: J };
type Rand = () => number;

interface Kind {
  plural: string;
  /** The collection's path (POST). */
  collection: string;
  status: boolean;
  template(name: string, r: Rand): { [k: string]: J };
}

const ip = (r: Rand) => `127.244.${Math.floor(r() * 250)}.${1 + Math.floor(r() * 250)}`;

const kinds: Kind[] = [
  {
    plural: 'services',
    collection: `/api/v1/namespaces/${NS}/services`,
    status: true,
    template: (name, r) => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: NS, labels: { app: 'fuzz' }, annotations: { note: 'x' } },
      spec: {
        type: ['ClusterIP', 'NodePort', 'LoadBalancer'][Math.floor(r() * 3)]!,
        selector: { app: 'fuzz' },
        sessionAffinity: 'None',
        ports: [
          { name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' },
          { name: 'dns', port: 53, targetPort: 'dns', protocol: 'UDP' },
        ],
      },
    }),
  },
  {
    plural: 'endpoints',
    collection: `/api/v1/namespaces/${NS}/endpoints`,
    status: false,
    template: (name, r) => ({
      apiVersion: 'v1',
      kind: 'Endpoints',
      metadata: { name, namespace: NS, labels: { app: 'fuzz' } },
      subsets: [
        {
          addresses: [{ ip: ip(r), nodeName: 'fuzz-node', targetRef: { kind: 'Pod', name: 'p', namespace: NS } }],
          notReadyAddresses: [{ ip: ip(r) }],
          ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
        },
      ],
    }),
  },
  {
    plural: 'endpointslices',
    collection: `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`,
    status: false,
    template: (name, r) => ({
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': 'fuzz' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: [ip(r)], conditions: { ready: true, serving: true, terminating: false }, nodeName: 'fuzz-node', zone: 'z' }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    }),
  },
  {
    plural: 'pods',
    collection: `/api/v1/namespaces/${NS}/pods`,
    status: true,
    template: (name, r) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, namespace: NS, labels: { app: 'fuzz' } },
      spec: {
        nodeName: 'fuzz-node',
        terminationGracePeriodSeconds: 5,
        containers: [{ name: 'main', image: 'echo', command: ['node', 'echo.js'], ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }] }],
      },
      status: { phase: 'Running', podIP: ip(r), podIPs: [{ ip: ip(r) }], hostIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
    }),
  },
  {
    plural: 'nodes',
    collection: '/api/v1/nodes',
    status: true,
    template: (name, r) => ({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name, labels: { 'kubernetes.io/hostname': name } },
      spec: { podCIDR: `127.244.${Math.floor(r() * 250)}.0/24`, podCIDRs: ['127.244.7.0/24'] },
      status: { addresses: [{ type: 'InternalIP', address: ip(r) }, { type: 'Hostname', address: name }] },
    }),
  },
  {
    plural: 'namespaces',
    collection: '/api/v1/namespaces',
    status: true,
    template: (name) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { team: 'fuzz' } }, spec: { finalizers: ['kubernetes'] } }),
  },
];

const strings = [
  '', ' ', 'UPPER', '-x', 'x-', 'a.b', 'a_b', 'x'.repeat(64), 'x'.repeat(254), 'ünïcödé', '日本語', '😀', '\u0000', '\ud800', '\u202e', 'a\nb',
  '../../etc/passwd', '%00', '<script>', 'null', 'None', 'TCP', 'SCTP', 'tcp', 'IPv7', 'True', '1.2.3', '999.999.999.999', '127.0.0.1/33',
  '::ffff:1.2.3.4', 'fd00::1', '0.0.0.0', '255.255.255.255', '127.244.0.1', 'localhost', '1e3', '-1', '0x10', '__proto__', 'constructor',
];
const numbers = [-1, 0, 1, 53, 65535, 65536, -2147483648, 2147483648, 2 ** 53, 2 ** 64, 1e308, -1e308, 0.5, 1e-300];
const keys = ['x', 'name', 'port', 'ip', 'spec', 'metadata', '__proto__', 'constructor', '', '😀', 'a'.repeat(300), 'type', 'status', 'resourceVersion'];

/** Deep nesting is spliced in as text, so building the body never recurses that deep. */
const deepMarker = (depth: number) => `__DEEP_${depth}__`;

function pick<T>(r: Rand, xs: readonly T[]): T {
  return xs[Math.floor(r() * xs.length)]!;
}

function junk(r: Rand, depth = 0): J {
  const x = r();
  if (x < 0.3) return pick(r, strings);
  if (x < 0.5) return pick(r, numbers);
  if (x < 0.55) return r() < 0.5;
  if (x < 0.62) return null;
  if (x < 0.68) return 'é'.repeat(Math.floor(r() * 70_000));
  if (x < 0.685) return 'h'.repeat(1_000_000 + Math.floor(r() * 1_500_000)); // huge, under the 3 MiB body limit
  if (x < 0.7) return deepMarker(pick(r, [64, 900, 1000, 10_000, 100_000]));
  if (depth > 2) return pick(r, strings);
  if (x < 0.85) return Array.from({ length: Math.floor(r() * 4) }, () => junk(r, depth + 1));
  return Object.fromEntries(Array.from({ length: Math.floor(r() * 4) }, () => [pick(r, keys), junk(r, depth + 1)]));
}

type Path = (string | number)[];

function paths(v: J, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) paths(x, [...at, k], out);
  return out;
}

function getAt(v: J, p: Path): J {
  return p.reduce<J>((o, k) => (o as Record<string | number, J>)[k]!, v);
}

function setAt(root: J, p: Path, value: J | undefined): J {
  if (p.length === 0) return value ?? null;
  const parent = getAt(root, p.slice(0, -1)) as Record<string | number, J> | J[];
  const k = p[p.length - 1]!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(k as number, 1);
    else delete (parent as Record<string, J>)[k as string];
  } else (parent as Record<string | number, J>)[k] = value;
  return root;
}

/** One to three mutations of a valid object: wrong types, junk values, missing and extra fields. */
function mutate(r: Rand, obj: J): J {
  let root = obj;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) {
    const all = paths(root);
    // Mostly below the root; rarely the whole body.
    const p = r() < 0.02 ? [] : pick(r, all.length > 1 ? all.slice(1) : all);
    const cur = getAt(root, p);
    const m = r();
    if (m < 0.3) root = setAt(root, p, junk(r));
    else if (m < 0.45 && p.length > 0) root = setAt(root, p, undefined); // missing field
    else if (m < 0.6) {
      // an extra field next to it (or in it)
      const target = cur !== null && typeof cur === 'object' && !Array.isArray(cur) ? p : p.slice(0, -1);
      const o = getAt(root, target);
      if (o !== null && typeof o === 'object' && !Array.isArray(o)) (o as Record<string, J>)[pick(r, keys)] = junk(r);
    } else if (m < 0.75) {
      // the same value, another type
      const other: J = typeof cur === 'string' ? Number(cur) || 7 : typeof cur === 'number' ? String(cur) : Array.isArray(cur) ? { 0: cur[0] ?? null } : cur !== null && typeof cur === 'object' ? [cur] : 'true';
      root = setAt(root, p, other);
    } else if (m < 0.85) root = setAt(root, p, null);
    else root = setAt(root, p, pick(r, strings));
  }
  return root;
}

function encode(body: J): string {
  return JSON.stringify(body).replace(/"__DEEP_(\d+)__"/g, (_, d: string) => '['.repeat(Number(d)) + '1' + ']'.repeat(Number(d)));
}

const pointer = (p: Path) => p.map((k) => '/' + String(k).replace(/~/g, '~0').replace(/\//g, '~1')).join('');

interface Attempt {
  method: 'POST' | 'PUT' | 'PATCH';
  path: string;
  contentType: string;
  body: string;
  what: string;
}

/** Request i: its own PRNG, so the run does not depend on how requests interleave. */
function attempt(i: number): Attempt {
  const r = seededRandom(SEED * 100_003 + i);
  const kind = pick(r, kinds);
  const target = kind.plural === 'nodes' ? `fuzz-node-${Math.floor(r() * TARGETS)}` : kind.plural === 'namespaces' ? `fuzz-ns-${Math.floor(r() * TARGETS)}` : `target-${Math.floor(r() * TARGETS)}`;
  const item = `${kind.collection}/${target}${kind.status && r() < 0.3 ? '/status' : ''}`;
  const op = pick(r, ['POST', 'POST', 'PUT', 'merge', 'json', 'strategic', 'apply'] as const);
  // Now and then a query that takes another path through the server.
  const query = pick(r, ['', '', '', '', '?fieldValidation=Strict', '?fieldValidation=Ignore', '?fieldValidation=Warn', '?dryRun=All']);
  const what = `#${i} ${op}${query} ${kind.plural}`;
  if (op === 'POST') {
    const name = kind.plural === 'nodes' || kind.plural === 'namespaces' ? `fuzz-${i}` : `f-${i}`;
    return { method: 'POST', path: kind.collection + query, contentType: 'application/json', body: encode(mutate(r, kind.template(name, r))), what };
  }
  if (op === 'PUT') return { method: 'PUT', path: item + query, contentType: 'application/json', body: encode(mutate(r, kind.template(target, r))), what: `${what} ${item}` };
  if (op === 'apply') {
    // server-side apply: kubectl sends the configuration as JSON
    const q = `?fieldManager=${pick(r, ['fuzz', 'fuzz', 'kubectl', '', '😀'])}${r() < 0.3 ? '&force=true' : ''}${query.replace('?', '&')}`;
    return { method: 'PATCH', path: item + q, contentType: 'application/apply-patch+yaml', body: encode(mutate(r, kind.template(target, r))), what: `${what} ${item}` };
  }
  if (op === 'json') {
    const t = kind.template(target, r);
    const all = paths(t).slice(1);
    const ops = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
      const p = pick(r, all);
      const o: { [k: string]: J } = { op: pick(r, ['add', 'replace', 'remove', 'test', 'move', 'copy', 'bogus']), path: r() < 0.1 ? pick(r, ['', '/', '/-', 'spec', '/spec/ports/99', '/~2']) : pointer(p) };
      if (r() < 0.8) o['value'] = r() < 0.5 ? junk(r) : mutate(r, structuredClone(getAt(t, p)));
      if (r() < 0.3) o['from'] = pointer(pick(r, all));
      return o;
    });
    return { method: 'PATCH', path: item + query, contentType: 'application/json-patch+json', body: encode(r() < 0.05 ? mutate(r, ops) : ops), what: `${what} ${item}` };
  }
  // merge / strategic: some of the object's top-level fields, mutated
  const t = kind.template(target, r);
  const part: { [k: string]: J } = {};
  for (const [k, v] of Object.entries(t)) if (r() < 0.5) part[k] = v;
  const contentType = op === 'merge' ? 'application/merge-patch+json' : 'application/strategic-merge-patch+json';
  let body = encode(mutate(r, part));
  if (r() < 0.02) body = body.slice(0, Math.floor(body.length / 2)); // malformed JSON
  return { method: 'PATCH', path: item + query, contentType, body, what: `${what} ${item}` };
}

/** The store's resourceVersion now: every list answers with it. */
async function storeRV(cluster: TestCluster): Promise<number> {
  const r = await apiRequest(cluster, 'GET', '/api/v1/namespaces?limit=1');
  return Number((r.body as { metadata: { resourceVersion: string } }).metadata.resourceVersion);
}

test('10,000 mutated objects to every write endpoint: 4xx or 2xx only, no crash, rejected writes change nothing', async (t) => {
  t.timeout(300_000);
  const cluster = await startCluster();
  // The controller writes Endpoints and EndpointSlices for the Services and Pods the fuzzer makes; frozen, it
  // leaves the resourceVersion to the fuzzer alone. (The apiserver's reconcile writes only what is missing.)
  const controller = cluster.pid('controller')!;
  let frozen = false;
  t.teardown(async () => {
    if (frozen) process.kill(controller, 'SIGCONT');
    await cluster.stop();
  });
  const apiserver = cluster.pid('apiserver')!;
  process.kill(controller, 'SIGSTOP');
  frozen = true;

  const ns = await apiRequest(cluster, 'POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  t.is(ns.status, 201, ns.text);
  const r0 = seededRandom(SEED);
  for (const kind of kinds) {
    for (let i = 0; i < TARGETS; i++) {
      const name = kind.plural === 'nodes' ? `fuzz-node-${i}` : kind.plural === 'namespaces' ? `fuzz-ns-${i}` : `target-${i}`;
      const r = await apiRequest(cluster, 'POST', kind.collection, kind.template(name, r0));
      t.is(r.status, 201, `the valid ${kind.plural} template: ${r.text}`);
    }
  }

  const rvBefore = await storeRV(cluster);
  const accepted = new Set<number>();
  const codes = new Map<number, number>();
  const bad: string[] = [];
  const reasons = new Map<string, number>();
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    for (let i = next++; i < REQUESTS; i = next++) {
      const a = attempt(i);
      let status: number;
      let text: string;
      let body: unknown;
      try {
        ({ status, text, body } = await apiRequest(cluster, a.method, a.path, a.body, a.contentType, 60_000));
      } catch (err) {
        bad.push(`${a.what}: no answer (${String(err)}); body ${a.body.slice(0, 300)}`);
        continue;
      }
      codes.set(status, (codes.get(status) ?? 0) + 1);
      if (status >= 200 && status < 300) {
        const rv = Number((body as { metadata?: { resourceVersion?: string } } | undefined)?.metadata?.resourceVersion);
        // A dry run stores nothing, and answers with no resourceVersion for a create.
        if (a.path.includes('dryRun=All')) continue;
        if (Number.isSafeInteger(rv)) accepted.add(rv);
        else bad.push(`${a.what}: ${status} without a resourceVersion: ${text.slice(0, 300)}`);
      } else if (status < 400 || status >= 500) {
        bad.push(`${a.what}: ${status} ${text.slice(0, 500)}; body ${a.body.slice(0, 300)}`);
      } else if ((body as { kind?: string } | undefined)?.kind === 'Status') {
        const why = `${status} ${(body as { message?: string }).message ?? ''}`.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, 'N').slice(0, 90);
        reasons.set(why, (reasons.get(why) ?? 0) + 1);
      } else {
        bad.push(`${a.what}: ${status} is not a Status: ${text.slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (Date.now() - started) / 1000;
  const rvAfter = await storeRV(cluster);
  process.kill(controller, 'SIGCONT');
  frozen = false;

  t.log(`seed ${SEED}: ${REQUESTS} requests in ${seconds.toFixed(1)} s; answers ${JSON.stringify(Object.fromEntries([...codes].sort((a, b) => a[0] - b[0])))}`);
  t.log('most common rejections:', [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([m, n]) => `${n}× ${m}`).join('\n  '));
  t.deepEqual(bad.slice(0, 20), [], `${bad.length} answers were not a 4xx Status or a 2xx object (replay with FUZZ_SEED=${SEED})`);
  t.is(cluster.pid('apiserver'), apiserver, 'the apiserver crashed');
  t.is(restarts(cluster, 'apiserver'), 0);
  // Each accepted change took one resourceVersion; nothing else moved it (no-op updates answer an old one).
  const changes = [...accepted].filter((rv) => rv > rvBefore);
  t.is(rvAfter - rvBefore, changes.length, 'the resourceVersion moved for writes that were not accepted');
  t.true(changes.every((rv) => rv <= rvAfter));

  // And the cluster still works: the controller catches up on what was accepted.
  await until(async () => ((await apiRequest(cluster, 'GET', '/readyz')).status === 200 ? true : undefined), 'the apiserver ready');
  t.is(cluster.pid('controller'), controller);
});
