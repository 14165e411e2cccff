// Unknown-field detection for fieldValidation=Strict|Warn|Ignore. kube-apiserver decodes into
// typed structs, which drops unknown fields; we walk the OpenAPI schema instead and prune.
import { isPlainObject } from './body.js';
import { resolve, type Schema } from './openapi-schemas.js';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Removes fields the schema does not know and returns their paths ("spec.foo", "spec.ports[0].bar"). */
export function pruneUnknownFields(value: unknown, schema: Schema | undefined, path = ''): string[] {
  const s = resolve(schema);
  if (!s || s['x-kubernetes-int-or-string']) return [];
  const out: string[] = [];
  if (Array.isArray(value)) {
    if (s.items) value.forEach((v, i) => out.push(...pruneUnknownFields(v, s.items, `${path}[${i}]`)));
    return out;
  }
  if (!isPlainObject(value)) return out;
  if (!s.properties && s.additionalProperties === undefined) return out; // free-form object
  for (const key of Object.keys(value)) {
    const child = path ? `${path}.${key}` : key;
    const prop = s.properties?.[key];
    if (prop) {
      out.push(...pruneUnknownFields(value[key], prop, child));
    } else if (typeof s.additionalProperties === 'object') {
      out.push(...pruneUnknownFields(value[key], s.additionalProperties, child));
    } else if (!s['x-kubernetes-preserve-unknown-fields'] && s.additionalProperties !== true) {
      out.push(child);
      delete value[key];
    }
  }
  return out;
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
  const s = resolve(schema);
  if (!s || s['x-kubernetes-int-or-string']) {
    if (s && typeof value !== 'number' && typeof value !== 'string' && value !== null && value !== undefined) {
      return [`${path}: expected an integer or a string, got ${describe(value)}`];
    }
    return [];
  }
  const out: string[] = [];
  const want = s.type ?? (s.properties ? 'object' : undefined);
  const at = path || '<root>';
  switch (want) {
    case 'string':
      if (typeof value !== 'string') out.push(`${at}: expected a string, got ${describe(value)}`);
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) out.push(`${at}: expected an integer, got ${describe(value)}`);
      break;
    case 'boolean':
      if (typeof value !== 'boolean') out.push(`${at}: expected a boolean, got ${describe(value)}`);
      break;
    case 'array':
      if (!Array.isArray(value)) out.push(`${at}: expected an array, got ${describe(value)}`);
      else value.forEach((v, i) => out.push(...typeErrors(v, s.items, `${path}[${i}]`)));
      break;
    case 'object': {
      if (!isPlainObject(value)) {
        out.push(`${at}: expected an object, got ${describe(value)}`);
        break;
      }
      for (const key of Object.keys(value)) {
        if (value[key] === null) {
          delete value[key];
          continue;
        }
        const child = path ? `${path}.${key}` : key;
        const prop = s.properties?.[key] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
        if (prop) out.push(...typeErrors(value[key], prop, child));
      }
      break;
    }
  }
  return out;
}

function describe(v: unknown): string {
  if (Array.isArray(v)) return 'an array';
  if (v === null) return 'null';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`.slice(0, 80);
}
