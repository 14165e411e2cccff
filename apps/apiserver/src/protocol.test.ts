// Wire-level pieces: protobuf request bodies, OpenAPI documents, discovery lists.
import test from 'ava';
import { strategies } from '@knet/api';
import { apiResourceList, apiGroupList } from './discovery.js';
import { buildOpenApiV3 } from './openapi.js';
import { decodeProtobufObject, ProtobufError } from './protobuf.js';

// a minimal protobuf encoder for the test: (field, value) pairs, strings/bytes/messages as length-delimited
type Pb = [number, string | number | Pb][];
function varint(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}
function encode(fields: Pb): number[] {
  const out: number[] = [];
  for (const [no, v] of fields) {
    if (typeof v === 'number') out.push(...varint(no << 3), ...varint(v));
    else {
      const body = typeof v === 'string' ? [...Buffer.from(v)] : encode(v);
      out.push(...varint((no << 3) | 2), ...varint(body.length), ...body);
    }
  }
  return out;
}
function envelope(apiVersion: string, kind: string, raw: Pb): Uint8Array {
  const rawBytes = encode(raw);
  const unknown = [...encode([[1, [[1, apiVersion], [2, kind]]]]), ...varint((2 << 3) | 2), ...varint(rawBytes.length), ...rawBytes];
  return Uint8Array.from([0x6b, 0x38, 0x73, 0x00, ...unknown]);
}

test('protobuf Namespace and Service bodies decode to their JSON form', (t) => {
  const ns = decodeProtobufObject(envelope('v1', 'Namespace', [[1, [[1, 'team-a'], [11, [[1, 'env'], [2, 'dev']]], [99, 'skipped']]]]));
  t.deepEqual(ns, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', labels: { env: 'dev' } } });
  const svc = decodeProtobufObject(envelope('v1', 'Service', [
    [1, [[1, 'web'], [3, 'default']]],
    [2, [[1, [[1, '80-8080'], [2, 'TCP'], [3, 80], [4, [[1, 0], [2, 8080]]]]], [1, [[1, 'named'], [3, 81], [4, [[1, 1], [3, 'http']]]]],
      [2, [[1, 'app'], [2, 'web']]], [4, 'ClusterIP']]],
  ]));
  t.deepEqual(svc, {
    apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' },
    spec: { ports: [{ name: '80-8080', protocol: 'TCP', port: 80, targetPort: 8080 }, { name: 'named', port: 81, targetPort: 'http' }], selector: { app: 'web' }, type: 'ClusterIP' },
  });
  t.throws(() => decodeProtobufObject(Uint8Array.from([1, 2, 3, 4, 5])), { instanceOf: ProtobufError });
  t.throws(() => decodeProtobufObject(envelope('v1', 'Pod', [])), { instanceOf: ProtobufError });
  t.throws(() => decodeProtobufObject(Uint8Array.from([0x6b, 0x38, 0x73, 0x00, 0x0a, 0xff])), { instanceOf: ProtobufError });
});

test('OpenAPI v3: every kind has a schema with its GVK and PATCH operations that take fieldValidation', (t) => {
  const resources = strategies.map((s) => s.info);
  const { index, documents } = buildOpenApiV3(resources);
  t.deepEqual(Object.keys((index as { paths: object }).paths).sort(), ['api/v1', 'apis/discovery.k8s.io/v1']);
  for (const r of resources) {
    const doc = JSON.parse(documents.get(r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`)!) as {
      paths: Record<string, { patch?: { parameters: { name: string }[]; 'x-kubernetes-group-version-kind': { kind: string } } }>;
      components: { schemas: Record<string, { 'x-kubernetes-group-version-kind'?: { kind: string }[] }> };
    };
    const schema = Object.values(doc.components.schemas).find((s) => s['x-kubernetes-group-version-kind']?.[0]?.kind === r.kind);
    t.truthy(schema, `schema for ${r.kind}`);
    const patch = Object.values(doc.paths).find((p) => p.patch?.['x-kubernetes-group-version-kind'].kind === r.kind)?.patch;
    t.truthy(patch?.parameters.some((p) => p.name === 'fieldValidation'), `PATCH ${r.kind} declares fieldValidation`);
  }
  for (const text of documents.values()) {
    const doc = JSON.parse(text) as { components: { schemas: Record<string, object> } };
    for (const m of text.matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)) t.truthy(doc.components.schemas[m[1]!], `${m[1]} is defined in its document`);
  }
});

test('discovery lists resources alphabetically with subresources', (t) => {
  const resources = strategies.map((s) => s.info);
  const list = apiResourceList(resources, '', 'v1') as { resources: { name: string }[] };
  const names = list.resources.map((r) => r.name);
  t.deepEqual(names.filter((n) => !n.includes('/')), [...names.filter((n) => !n.includes('/'))].sort());
  for (const n of ['services/status', 'pods/status', 'nodes/status']) t.true(names.includes(n), n);
  t.is(apiResourceList(resources, 'nope', 'v1'), undefined);
  t.deepEqual((apiGroupList(resources) as { groups: { name: string }[] }).groups.map((g) => g.name), ['discovery.k8s.io']);
});
