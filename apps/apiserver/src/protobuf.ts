// Minimal decoder for Kubernetes' protobuf wire form ("k8s\0" + runtime.Unknown), enough for
// the typed-client bodies kubectl sends (kubectl create namespace / create service). Fields
// not listed here are skipped; responses are always JSON (clients accept it).

type FieldType = 'string' | 'int32' | 'int64' | 'bool' | 'bytes' | 'map' | Desc;
interface Field { name: string; type: FieldType; repeated?: boolean }
type Desc = Record<number, Field>;

export class ProtobufError extends Error {}

const MAGIC = [0x6b, 0x38, 0x73, 0x00];

const TypeMeta: Desc = { 1: { name: 'apiVersion', type: 'string' }, 2: { name: 'kind', type: 'string' } };
const Unknown: Desc = { 1: { name: 'typeMeta', type: TypeMeta }, 2: { name: 'raw', type: 'bytes' }, 3: { name: 'contentEncoding', type: 'string' }, 4: { name: 'contentType', type: 'string' } };
const ObjectMeta: Desc = {
  1: { name: 'name', type: 'string' }, 2: { name: 'generateName', type: 'string' }, 3: { name: 'namespace', type: 'string' },
  5: { name: 'uid', type: 'string' }, 6: { name: 'resourceVersion', type: 'string' }, 7: { name: 'generation', type: 'int64' },
  11: { name: 'labels', type: 'map' }, 12: { name: 'annotations', type: 'map' }, 14: { name: 'finalizers', type: 'string', repeated: true },
};
const IntOrString: Desc = { 1: { name: 'type', type: 'int64' }, 2: { name: 'intVal', type: 'int32' }, 3: { name: 'strVal', type: 'string' } };
const ServicePort: Desc = {
  1: { name: 'name', type: 'string' }, 2: { name: 'protocol', type: 'string' }, 3: { name: 'port', type: 'int32' },
  4: { name: 'targetPort', type: IntOrString }, 5: { name: 'nodePort', type: 'int32' }, 6: { name: 'appProtocol', type: 'string' },
};
const ServiceSpec: Desc = {
  1: { name: 'ports', type: ServicePort, repeated: true }, 2: { name: 'selector', type: 'map' }, 3: { name: 'clusterIP', type: 'string' },
  4: { name: 'type', type: 'string' }, 5: { name: 'externalIPs', type: 'string', repeated: true }, 7: { name: 'sessionAffinity', type: 'string' },
  10: { name: 'externalName', type: 'string' },
};
const ResourceAttributes: Desc = {
  1: { name: 'namespace', type: 'string' }, 2: { name: 'verb', type: 'string' }, 3: { name: 'group', type: 'string' },
  4: { name: 'version', type: 'string' }, 5: { name: 'resource', type: 'string' }, 6: { name: 'subresource', type: 'string' }, 7: { name: 'name', type: 'string' },
};
const NonResourceAttributes: Desc = { 1: { name: 'path', type: 'string' }, 2: { name: 'verb', type: 'string' } };
const kinds: Record<string, Desc> = {
  // what `kubectl auth can-i` sends through the typed client
  'authorization.k8s.io/v1/SelfSubjectAccessReview': {
    1: { name: 'metadata', type: ObjectMeta },
    2: { name: 'spec', type: { 1: { name: 'resourceAttributes', type: ResourceAttributes }, 2: { name: 'nonResourceAttributes', type: NonResourceAttributes } } },
  },
  'authorization.k8s.io/v1/SelfSubjectRulesReview': { 1: { name: 'metadata', type: ObjectMeta }, 2: { name: 'spec', type: { 1: { name: 'namespace', type: 'string' } } } },
  'v1/Namespace': { 1: { name: 'metadata', type: ObjectMeta }, 2: { name: 'spec', type: { 1: { name: 'finalizers', type: 'string', repeated: true } } } },
  'v1/Service': { 1: { name: 'metadata', type: ObjectMeta }, 2: { name: 'spec', type: ServiceSpec } },
};

class Reader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}
  done(): boolean { return this.pos >= this.buf.length; }
  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.buf.length || shift > 63n) throw new ProtobufError('truncated varint');
      const b = this.buf[this.pos++]!;
      result |= BigInt(b & 0x7f) << shift;
      if ((b & 0x80) === 0) return result;
      shift += 7n;
    }
  }
  bytes(): Uint8Array {
    const n = Number(this.varint());
    if (this.pos + n > this.buf.length) throw new ProtobufError('truncated field');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) this.bytes();
    else if (wire === 5) this.pos += 4;
    else throw new ProtobufError(`unsupported wire type ${wire}`);
  }
}

const text = (b: Uint8Array): string => Buffer.from(b).toString('utf8');

function decodeMessage(buf: Uint8Array, desc: Desc): Record<string, unknown> {
  const r = new Reader(buf);
  const out: Record<string, unknown> = {};
  while (!r.done()) {
    const tag = Number(r.varint());
    const no = tag >>> 3;
    const wire = tag & 7;
    const f = desc[no];
    if (!f) {
      r.skip(wire);
      continue;
    }
    let v: unknown;
    if (f.type === 'string') v = text(r.bytes());
    else if (f.type === 'bytes') v = r.bytes();
    else if (f.type === 'bool') v = r.varint() !== 0n;
    else if (f.type === 'int32') v = Number(BigInt.asIntN(32, r.varint()));
    else if (f.type === 'int64') v = Number(BigInt.asIntN(64, r.varint()));
    else if (f.type === 'map') {
      const entry = decodeMessage(r.bytes(), { 1: { name: 'k', type: 'string' }, 2: { name: 'v', type: 'string' } });
      const m = (out[f.name] ??= {}) as Record<string, string>;
      m[String(entry['k'] ?? '')] = String(entry['v'] ?? '');
      continue;
    } else v = decodeMessage(r.bytes(), f.type);
    if (f.repeated) ((out[f.name] ??= []) as unknown[]).push(v);
    else out[f.name] = v;
  }
  return out;
}

function fixIntOrString(o: unknown): void {
  if (Array.isArray(o)) return o.forEach(fixIntOrString);
  if (typeof o !== 'object' || o === null) return;
  const rec = o as Record<string, unknown>;
  for (const [k, v] of Object.entries(rec)) {
    if (k === 'targetPort' && typeof v === 'object' && v !== null) {
      const ios = v as { type?: number; intVal?: number; strVal?: string };
      rec[k] = ios.type === 1 ? (ios.strVal ?? '') : (ios.intVal ?? 0);
    } else fixIntOrString(v);
  }
}

/** Decodes a protobuf request body into the JSON form of the object. */
export function decodeProtobufObject(buf: Uint8Array): Record<string, unknown> {
  if (buf.length < 4 || MAGIC.some((b, i) => buf[i] !== b)) throw new ProtobufError('missing the k8s protobuf prefix');
  const unknown = decodeMessage(buf.subarray(4), Unknown);
  const tm = (unknown['typeMeta'] ?? {}) as { apiVersion?: string; kind?: string };
  const desc = kinds[`${tm.apiVersion ?? ''}/${tm.kind ?? ''}`];
  if (!desc) throw new ProtobufError(`protobuf bodies are supported for Namespace, Service and SelfSubject*Review only, not ${tm.apiVersion ?? ''}/${tm.kind ?? ''}; send JSON`);
  const obj = decodeMessage((unknown['raw'] as Uint8Array | undefined) ?? new Uint8Array(), desc);
  fixIntOrString(obj);
  return { apiVersion: tm.apiVersion, kind: tm.kind, metadata: {}, ...obj };
}
