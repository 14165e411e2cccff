// Unknown-field detection for fieldValidation=Strict|Warn|Ignore. kube-apiserver decodes into
// typed structs, which drops unknown fields; we walk the OpenAPI schema instead and prune.
import { isPlainObject } from './body.js';
import { resolve, type Schema } from './openapi-schemas.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Removes fields the schema does not know and returns their paths ("spec.foo", "spec.ports[0].bar"). */
export function pruneUnknownFields(value: unknown, schema: Schema | undefined, path = ''): string[] {
  const out: string[] = [];
  prune(value, schema, path, undefined, out);
  return out;
}

/**
 * The path of a field: its parent's path and its own key (an index in an array). Each walk below
 * passes both down and joins them only for a report or a container: most fields are leaves that
 * pass, and every request body is walked twice.
 */
function join(parent: string, key: string | number | undefined): string {
  if (key === undefined) return parent;
  if (typeof key === 'number') return `${parent}[${key}]`;
  return parent ? `${parent}.${key}` : key;
}

function prune(value: unknown, schema: Schema | undefined, parent: string, key: string | number | undefined, out: string[]): void {
  const s = resolve(schema);
  if (!s || s['x-kubernetes-int-or-string']) return;
  if (Array.isArray(value)) {
    if (!s.items) return;
    const path = join(parent, key);
    for (let i = 0; i < value.length; i++) prune(value[i], s.items, path, i, out);
    return;
  }
  if (!isPlainObject(value)) return;
  if (!s.properties && s.additionalProperties === undefined) return; // free-form object
  const path = join(parent, key);
  for (const k of Object.keys(value)) {
    const prop = s.properties?.[k];
    if (prop) {
      prune(value[k], prop, path, k, out);
    } else if (typeof s.additionalProperties === 'object') {
      prune(value[k], s.additionalProperties, path, k, out);
    } else if (!s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties !== true) {
      out.push(join(path, k));
      delete value[k];
    }
  }
}

export function parseFieldValidation(v: unknown): FieldValidation | undefined | Error {
  if (v === undefined || v === '') return undefined;
  if (v === 'Strict' || v === 'Warn' || v === 'Ignore') return v;
  return new Error(`fieldValidation parameter unsupported: ${String(v)}`);
}

/**
 * Type mismatches the way Go's JSON decoding reports them (kube-apiserver answers 400): a string
 * where an integer belongs and so on. Nulls are dropped, as decoding into a typed struct does.
 */
export function typeErrors(value: unknown, schema: Schema | undefined, path = ''): string[] {
  const out: string[] = [];
  checkTypes(value, schema, path, undefined, out);
  return out;
}

function checkTypes(value: unknown, schema: Schema | undefined, parent: string, key: string | number | undefined, out: string[]): void {
  const s = resolve(schema);
  if (!s || s['x-kubernetes-int-or-string']) {
    if (s && typeof value !== 'number' && typeof value !== 'string' && value !== null && value !== undefined) {
      out.push(`${join(parent, key)}: expected an integer or a string, got ${describe(value)}`);
    }
    return;
  }
  const want = s.type ?? (s.properties ? 'object' : undefined);
  let expected: string | undefined;
  switch (want) {
    case 'string':
      if (typeof value !== 'string') expected = 'a string';
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) expected = 'an integer';
      break;
    case 'boolean':
      if (typeof value !== 'boolean') expected = 'a boolean';
      break;
    case 'array': {
      if (!Array.isArray(value)) {
        expected = 'an array';
        break;
      }
      const path = join(parent, key);
      for (let i = 0; i < value.length; i++) checkTypes(value[i], s.items, path, i, out);
      break;
    }
    case 'object': {
      if (!isPlainObject(value)) {
        expected = 'an object';
        break;
      }
      const path = join(parent, key);
      const extra = typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined;
      for (const k of Object.keys(value)) {
        if (value[k] === null) {
          delete value[k];
          continue;
        }
        const prop = s.properties?.[k] ?? extra;
        if (prop) checkTypes(value[k], prop, path, k, out);
      }
      break;
    }
  }
  if (expected !== undefined) out.push(`${join(parent, key) || '<root>'}: expected ${expected}, got ${describe(value)}`);
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`.slice(0, 80);
}
