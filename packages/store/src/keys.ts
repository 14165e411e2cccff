// Key layout. In level: `o\0<resource>\0<namespace>\0<name>` → object JSON,
// `e\0<rv, 16 digits>` → event-log entry, `m\0rv` → highest committed RV.
// In memory, objects of one resource are keyed `<namespace>/<name>`, the
// order Kubernetes lists in (its etcd keys end in `<namespace>/<name>`).

import { StoreError } from './errors.js';

export const META_RV_KEY = 'm\x00rv';
export const OBJECT_PREFIX = 'o\x00';
export const OBJECT_END = 'o\x01';
export const EVENT_PREFIX = 'e\x00';
export const EVENT_END = 'e\x01';

const RV_DIGITS = 16;

export function memKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

export function objectKey(resource: string, namespace: string, name: string): string {
  return `${OBJECT_PREFIX}${resource}\x00${namespace}\x00${name}`;
}

export function parseObjectKey(key: string): { resource: string; namespace: string; name: string } | undefined {
  const parts = key.slice(OBJECT_PREFIX.length).split('\x00');
  if (!key.startsWith(OBJECT_PREFIX) || parts.length !== 3) return undefined;
  return { resource: parts[0], namespace: parts[1], name: parts[2] };
}

export function eventKey(rv: number): string {
  return EVENT_PREFIX + String(rv).padStart(RV_DIGITS, '0');
}

export function parseEventKey(key: string): number | undefined {
  if (!key.startsWith(EVENT_PREFIX)) return undefined;
  const rv = Number(key.slice(EVENT_PREFIX.length));
  return Number.isSafeInteger(rv) && rv > 0 ? rv : undefined;
}

/**
 * Parses a resourceVersion as sent by clients. undefined for "not given"
 * ('' or undefined); throws for anything that is not a decimal integer.
 */
export function parseResourceVersion(rv: string | undefined): number | undefined {
  if (rv === undefined || rv === '') return undefined;
  const n = /^[0-9]{1,16}$/.test(rv) ? Number(rv) : NaN;
  if (!Number.isSafeInteger(n)) throw new StoreError('Gone', `invalid resource version: "${rv}"`);
  return n;
}

/** Rejects the segments that would make two keys collide or break the layout. */
export function checkKeyParts(resource: string, namespace: string, name: string): void {
  if (resource === '' || resource.includes('\x00')) {
    throw new StoreError('StorageError', `invalid resource key: "${resource}"`);
  }
  if (namespace.includes('/') || namespace.includes('\x00')) {
    throw new StoreError('StorageError', `invalid namespace: "${namespace}" may not contain '/'`);
  }
  if (name === '') {
    throw new StoreError('StorageError', 'name or generateName is required');
  }
  if (name.includes('/') || name.includes('\x00')) {
    throw new StoreError('StorageError', `invalid name: "${name}" may not contain '/'`);
  }
}
