// Strategic merge patch (application/strategic-merge-patch+json) driven by the OpenAPI schema's
// x-kubernetes-patch-strategy / x-kubernetes-patch-merge-key, like apimachinery's strategicpatch.
// Supports $patch: replace|delete|merge, $retainKeys, $setElementOrder/<list>, $deleteFromPrimitiveList/<list>.
import { resolve, type Schema } from './openapi-schemas.js';

type Obj = Record<string, unknown>;

export class PatchError extends Error {}

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const DELETE = Symbol('delete');

/** Removes directive keys from a value that is inserted as-is. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((e) => !(isObj(e) && e['$patch'] === 'delete')).map(stripDirectives);
  if (!isObj(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$') || k === '__proto__') continue;
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function fieldSchema(s: Schema | undefined, key: string): Schema | undefined {
  if (!s) return undefined;
  const p = s.properties?.[key];
  if (p) return resolve(p);
  if (typeof s.additionalProperties === 'object') return resolve(s.additionalProperties);
  return undefined;
}

export function strategicMerge(original: unknown, patch: unknown, schema: Schema | undefined): unknown {
  const r = mergeValue(original, patch, resolve(schema));
  return r === DELETE ? {} : r;
}

function mergeValue(original: unknown, patch: unknown, schema: Schema | undefined): unknown {
  if (!isObj(patch)) return patch;
  const directive = patch['$patch'];
  if (directive === 'delete') return DELETE;
  if (directive === 'replace') return stripDirectives(patch);
  if (directive !== undefined && directive !== 'merge') throw new PatchError(`Unknown patch type: ${String(directive)}`);
  return mergeObject(isObj(original) ? original : {}, patch, schema);
}

function mergeObject(original: Obj, patch: Obj, schema: Schema | undefined): Obj {
  const result: Obj = { ...original };
  const orders = new Map<string, unknown[]>();
  for (const [key, pv] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys' || key === '__proto__') continue;
    if (key.startsWith('$setElementOrder/')) {
      if (Array.isArray(pv)) orders.set(key.slice('$setElementOrder/'.length), pv);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const cur = result[field];
      if (Array.isArray(cur) && Array.isArray(pv)) result[field] = cur.filter((x) => !pv.includes(x));
      continue;
    }
    if (key.startsWith('$')) continue;
    if (pv === null) {
      delete result[key];
      continue;
    }
    const fs = fieldSchema(schema, key);
    const ov = result[key];
    let merged: unknown;
    if (Array.isArray(pv)) merged = mergeList(Array.isArray(ov) ? ov : [], pv, fs);
    else if (isObj(pv)) merged = mergeValue(ov, pv, fs);
    else merged = pv;
    if (merged === DELETE) delete result[key];
    else result[key] = merged;
  }
  for (const [field, order] of orders) {
    const list = result[field];
    if (Array.isArray(list)) result[field] = reorder(list, order, resolve(schema?.properties?.[field])?.['x-kubernetes-patch-merge-key']);
  }
  const retain = patch['$retainKeys'];
  if (Array.isArray(retain)) {
    for (const k of Object.keys(result)) if (!retain.includes(k)) delete result[k];
  }
  return result;
}

function mergeList(original: unknown[], patch: unknown[], schema: Schema | undefined): unknown[] {
  const strategy = schema?.['x-kubernetes-patch-strategy'] ?? '';
  if (!strategy.split(',').includes('merge')) {
    // atomic list: replaced, unless it carries a {$patch: replace} marker which is dropped
    return patch.filter((e) => !(isObj(e) && e['$patch'] === 'replace')).map(stripDirectives);
  }
  if (patch.some((e) => isObj(e) && e['$patch'] === 'replace' && Object.keys(e).length === 1)) {
    return patch.filter((e) => !(isObj(e) && e['$patch'] === 'replace')).map(stripDirectives);
  }
  const mergeKey = schema?.['x-kubernetes-patch-merge-key'];
  if (!mergeKey) {
    // a set of primitives: union, patch items appended when missing
    const out = [...original];
    for (const v of patch) if (!out.some((o) => JSON.stringify(o) === JSON.stringify(v))) out.push(v);
    return out;
  }
  const itemSchema = resolve(schema?.items);
  const out = [...original];
  for (const pe of patch) {
    if (!isObj(pe)) throw new PatchError(`unable to find api field in struct for the list element; expected a map with merge key "${mergeKey}"`);
    if (!(mergeKey in pe)) throw new PatchError(`map: ${JSON.stringify(pe)} does not contain declared merge key: ${mergeKey}`);
    const idx = out.findIndex((o) => isObj(o) && sameKey(o[mergeKey], pe[mergeKey]));
    if (pe['$patch'] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = mergeValue(out[idx], pe, itemSchema);
      if (merged === DELETE) out.splice(idx, 1);
      else out[idx] = merged;
    } else {
      out.push(stripDirectives(pe));
    }
  }
  return out;
}

function sameKey(a: unknown, b: unknown): boolean {
  // merge keys such as port may arrive as number or numeric string
  return a === b || (a !== undefined && b !== undefined && String(a) === String(b));
}

function reorder(list: unknown[], order: unknown[], mergeKey: string | undefined): unknown[] {
  const keyOf = (v: unknown): string => JSON.stringify(mergeKey && isObj(v) ? String(v[mergeKey]) : v);
  const rank = new Map(order.map((o, i) => [keyOf(o), i]));
  return list
    .map((v, i) => ({ v, i, r: rank.get(keyOf(v)) }))
    .sort((a, b) => (a.r ?? Number.MAX_SAFE_INTEGER) - (b.r ?? Number.MAX_SAFE_INTEGER) || a.i - b.i)
    .map((x) => x.v);
}
