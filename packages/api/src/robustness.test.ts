// Bad input gets errors, never an exception: feed every strategy, selector parser and
// table printer malformed objects of many shapes.
import test from 'ava';
import type { KubeObject } from './meta.js';
import { checkShape, objectMetaSchema, parseFieldSelector, parseLabelSelector, serviceEnvVars, shapeSchema, strategies, tableFor, type Schema } from './index.js';
import type { Service } from './core.js';

/** Small deterministic PRNG so a failure is reproducible. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** Every step of a create, an update and a status update of obj over old; throws what a step throws. */
function runStrategy(s: (typeof strategies)[number], obj: KubeObject, old: KubeObject): void {
  s.prepareForCreate(obj);
  s.validate(obj);
  s.prepareForUpdate(obj, old);
  s.validateUpdate(obj, old);
  s.prepareForStatusUpdate(obj, old);
  s.validateStatusUpdate(obj, old);
}

const atoms: unknown[] = [null, 0, -1, 1.5, 70000, '', 'x', 'None', 'TCP', 'ClusterIP', 'LoadBalancer', 'ExternalName', '127.0.0.1', 'fd00::1', '::ffff:1.2.3.4', true, false, [], {}];
const keys = ['spec', 'status', 'ports', 'port', 'targetPort', 'nodePort', 'protocol', 'name', 'type', 'clusterIP', 'clusterIPs', 'ipFamilies',
  'selector', 'subsets', 'addresses', 'ip', 'endpoints', 'addressType', 'containers', 'containerPort', 'podIPs', 'podCIDRs', 'finalizers',
  'sessionAffinity', 'sessionAffinityConfig', 'clientIP', 'timeoutSeconds', 'externalIPs', 'loadBalancer', 'ingress', 'conditions', 'labels', 'annotations'];

function junk(r: () => number, depth: number): unknown {
  const roll = r();
  if (depth <= 0 || roll < 0.35) return atoms[Math.floor(r() * atoms.length)];
  if (roll < 0.6) return Array.from({ length: Math.floor(r() * 3) }, () => junk(r, depth - 1));
  const o: Record<string, unknown> = {};
  for (let i = Math.floor(r() * 5); i > 0; i--) o[keys[Math.floor(r() * keys.length)]!] = junk(r, depth - 1);
  return o;
}

test('strategies never throw on well-typed but otherwise arbitrary objects', (t) => {
  const r = rng(42);
  let accepted = 0;
  let rejected = 0;
  for (let i = 0; i < 20000; i++) {
    const s = strategies[i % strategies.length]!;
    const body = junk(r, 5);
    const obj = { ...(typeof body === 'object' && body !== null && !Array.isArray(body) ? body : {}), metadata: { name: 'x', namespace: 'default', resourceVersion: '1' } } as KubeObject;
    // Bodies of the wrong JSON types are rejected at decode time, as kube-apiserver does.
    const shape = checkShape(s.info.plural, s.info.kind, s.info.version, obj);
    if (shape) {
      t.is(shape.code, 400);
      rejected++;
      continue;
    }
    accepted++;
    const old = structuredClone(obj);
    try {
      runStrategy(s, obj, old);
      tableFor(s.info.plural, [obj]);
    } catch (e) {
      t.fail(`${s.info.plural} threw on ${JSON.stringify(old)}: ${(e as Error).stack}`);
      return;
    }
  }
  t.true(accepted > 500, `only ${accepted} of ${accepted + rejected} junk objects were well-typed`);
});

const strings = ['', 'x', 'a-b', 'None', 'TCP', 'UDP', 'SCTP', 'ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName', 'Local', 'Cluster',
  'ClientIP', 'IPv4', 'IPv6', 'FQDN', 'SingleStack', 'RequireDualStack', '127.0.0.1', '127.96.0.5', 'fd00::1', '::ffff:1.2.3.4', '0.0.0.0',
  '127.96.0.0/12', 'fd00::/64', 'Running', 'True', 'Ready', 'kubernetes', 'example.com', 'http', '2026-01-01T00:00:00Z', 'not a time', 'Ünïcode'];
const ints = [0, -1, 1, 80, 53, 30080, 65535, 65536, 86400, 2 ** 31];

/** A random value of the schema's JSON types: odd values, but decodable. */
function typed(r: () => number, s: Schema, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  if (s === 'string') return pick(strings);
  if (s === 'integer' || s === 'number') return pick(ints);
  if (s === 'boolean') return r() < 0.5;
  if (s === 'intOrString') return r() < 0.5 ? pick(ints) : pick(strings);
  if (s === 'any') return {};
  if (depth <= 0) return undefined;
  if ('list' in s) return Array.from({ length: Math.floor(r() * 4) }, () => typed(r, s.list, depth - 1) ?? (s.list === 'string' ? 'x' : {}));
  if ('map' in s) return Object.fromEntries(Array.from({ length: Math.floor(r() * 3) }, () => [pick(strings), typed(r, s.map, depth - 1)]));
  const o: Record<string, unknown> = {};
  for (const [k, sub] of Object.entries(s.fields)) if (r() < 0.6) o[k] = typed(r, sub, depth - 1);
  return o;
}

test('strategies, tables and env vars never throw on arbitrary well-typed objects', (t) => {
  const r = rng(1234);
  for (let i = 0; i < 6000; i++) {
    const s = strategies[i % strategies.length]!;
    const obj = typed(r, shapeSchema(s.info.plural)!, 6) as KubeObject;
    obj.metadata = (typed(r, objectMetaSchema, 3) ?? {}) as KubeObject['metadata'];
    const old = typed(r, shapeSchema(s.info.plural)!, 6) as KubeObject;
    old.metadata = (typed(r, objectMetaSchema, 3) ?? {}) as KubeObject['metadata'];
    t.is(checkShape(s.info.plural, s.info.kind, s.info.version, obj), undefined);
    const snapshot = JSON.stringify({ obj, old });
    try {
      runStrategy(s, obj, old);
      tableFor(s.info.plural, [obj, old]);
      if (s.info.plural === 'services') serviceEnvVars([obj as Service, old as Service]);
    } catch (e) {
      t.fail(`${s.info.plural} threw on ${snapshot}: ${(e as Error).stack}`);
      return;
    }
  }
});

test('selector parsers never throw', (t) => {
  const r = rng(7);
  const alphabet = ['a', 'b', '=', '!', '(', ')', ',', ' ', 'in', 'notin', '\\', '/', '.', '-', '>', '<', '1'];
  for (let i = 0; i < 5000; i++) {
    const text = Array.from({ length: Math.floor(r() * 12) }, () => alphabet[Math.floor(r() * alphabet.length)]).join('');
    t.notThrows(() => {
      const l = parseLabelSelector(text);
      if (!(l instanceof Error)) l.matches({ a: 'b' });
      const f = parseFieldSelector(text);
      if (!(f instanceof Error)) f.matches({ a: 'b' });
    }, text);
  }
});

test('env vars ignore malformed services', (t) => {
  t.notThrows(() => serviceEnvVars([{ metadata: {}, spec: { clusterIP: '127.96.0.1' } } as Service, { metadata: { name: 'x' } } as Service]));
});
