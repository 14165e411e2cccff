// A light server-side apply (application/apply-patch+yaml): each field manager's applied fields
// are recorded in metadata.managedFields (FieldsV1 form); a re-apply removes the fields that
// manager applied before and no longer does, then merges the applied configuration in.
// Not modelled: ownership conflicts between managers (every apply behaves as --force-conflicts).
import type { KubeObject, ManagedFieldsEntry } from '@knet/api';
import { resolve, type Schema } from './openapi-schemas.js';
import { strategicMerge } from './strategic-merge.js';

export type FieldSet = { [key: string]: FieldSet };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Metadata fields the server owns; an apply never manages them. */
const SERVER_METADATA = new Set(['name', 'namespace', 'generateName', 'uid', 'resourceVersion', 'generation', 'creationTimestamp',
  'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

function listKeys(s: Schema): string[] | undefined {
  if (s['x-kubernetes-list-type'] === 'map') return s['x-kubernetes-list-map-keys'];
  const mk = s['x-kubernetes-patch-merge-key'];
  return mk ? [mk] : undefined;
}

function elementKey(e: Record<string, unknown>, keys: string[], itemSchema: Schema | undefined): string {
  const k: Record<string, unknown> = {};
  for (const name of keys) {
    // a map key left out takes its default (protocol: TCP), as the server fills it in
    const v = e[name] ?? resolve(itemSchema?.properties?.[name])?.default;
    if (v !== undefined) k[name] = v;
  }
  return `k:${JSON.stringify(k)}`;
}

/** The fields an applied configuration sets, in FieldsV1 form (f:name, k:{...}, v:value). */
export function fieldSetOf(value: unknown, schema: Schema | undefined, root = true): FieldSet {
  const s = resolve(schema);
  const out: FieldSet = {};
  if (Array.isArray(value)) {
    if (!s) return out;
    const items = resolve(s.items);
    const keys = listKeys(s);
    if (keys) {
      for (const e of value) if (isObj(e)) out[elementKey(e, keys, items)] = fieldSetOf(e, items, false);
    } else if (s['x-kubernetes-list-type'] === 'set') {
      for (const e of value) out[`v:${JSON.stringify(e)}`] = {};
    }
    return out;
  }
  if (!isObj(value) || s?.['x-kubernetes-map-type'] === 'atomic') return out;
  for (const [k, v] of Object.entries(value)) {
    if (root && (k === 'apiVersion' || k === 'kind')) continue;
    if (root && k === 'metadata' && isObj(v)) {
      const meta: FieldSet = {};
      for (const [mk, mv] of Object.entries(v)) {
        if (!SERVER_METADATA.has(mk)) meta[`f:${mk}`] = fieldSetOf(mv, resolve(s?.properties?.['metadata'])?.properties?.[mk], false);
      }
      if (Object.keys(meta).length > 0) out['f:metadata'] = meta;
      continue;
    }
    const child = s?.properties?.[k] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
    out[`f:${k}`] = fieldSetOf(v, child, false);
  }
  return out;
}

/** Removes from obj what `before` holds and `after` does not (fields a manager stopped applying). */
export function removeDropped(obj: unknown, before: FieldSet, after: FieldSet, schema: Schema | undefined): void {
  const s = resolve(schema);
  for (const [key, sub] of Object.entries(before)) {
    const still = after[key];
    if (Array.isArray(obj) && s) {
      const items = resolve(s.items);
      const keys = listKeys(s);
      const idx = obj.findIndex((e) =>
        key.startsWith('k:') && keys && isObj(e) ? elementKey(e, keys, items) === key : key.startsWith('v:') && `v:${JSON.stringify(e)}` === key);
      if (idx < 0) continue;
      if (!still) obj.splice(idx, 1);
      else removeDropped(obj[idx], sub, still, items);
      continue;
    }
    if (!isObj(obj) || !key.startsWith('f:')) continue;
    const name = key.slice(2);
    if (!(name in obj)) continue;
    const child = s?.properties?.[name] ?? (typeof s?.additionalProperties === 'object' ? s.additionalProperties : undefined);
    if (Object.keys(sub).length === 0) {
      if (!still) delete obj[name];
      continue;
    }
    // a parent (metadata, labels, spec...) goes only with the fields in it: others may own the rest
    removeDropped(obj[name], sub, still ?? {}, child);
    const v = obj[name];
    if (!still && name !== 'metadata' && ((isObj(v) && Object.keys(v).length === 0) || (Array.isArray(v) && v.length === 0))) delete obj[name];
  }
}

function managerEntry(manager: string, apiVersion: string, fields: FieldSet): ManagedFieldsEntry {
  return { manager, operation: 'Apply', apiVersion, time: new Date().toISOString().replace(/\.\d+Z$/, 'Z'), fieldsType: 'FieldsV1', fieldsV1: fields };
}

function withEntry(entries: ManagedFieldsEntry[] | undefined, e: ManagedFieldsEntry): ManagedFieldsEntry[] {
  const rest = (entries ?? []).filter((x) => !(x.manager === e.manager && x.operation === 'Apply' && !x.subresource));
  return [...rest, e];
}

/** The object to create from a first apply. */
export function applyCreate(applied: KubeObject, manager: string, schema: Schema | undefined): KubeObject {
  const obj = structuredClone(applied);
  obj.metadata.managedFields = [managerEntry(manager, obj.apiVersion ?? '', fieldSetOf(applied, schema))];
  return obj;
}

/** The object after applying `applied` as `manager` on top of `current`. */
export function applyUpdate(current: KubeObject, applied: KubeObject, manager: string, schema: Schema | undefined): KubeObject {
  const before = (current.metadata.managedFields ?? []).find((x) => x.manager === manager && x.operation === 'Apply' && !x.subresource);
  const after = fieldSetOf(applied, schema);
  const next = structuredClone(current);
  if (before && isObj(before.fieldsV1)) removeDropped(next, before.fieldsV1 as FieldSet, after, schema);
  const { metadata: appliedMeta, ...appliedRest } = structuredClone(applied);
  const metaPatch: Record<string, unknown> = {};
  if (appliedMeta.labels) metaPatch['labels'] = appliedMeta.labels;
  if (appliedMeta.annotations) metaPatch['annotations'] = appliedMeta.annotations;
  const merged = strategicMerge(next, { ...appliedRest, metadata: metaPatch }, schema) as KubeObject;
  merged.metadata.managedFields = withEntry(current.metadata.managedFields, managerEntry(manager, applied.apiVersion ?? '', after));
  return merged;
}
