// The JSON text of stored objects, kept beside them. What the store hands out is deeply frozen,
// so the text written to level stays exact, and responses and watch streams reuse it instead of
// serializing the same object again for every reader.

import type { KubeObject } from '@knet/api';

const texts = new WeakMap<object, string>();

/** Called by the store for an object it has frozen, with the text it wrote. */
export function rememberJSON(obj: KubeObject, text: string): void {
  texts.set(obj, text);
}

/** JSON.stringify(obj), from the store's copy of the text when obj is a stored object. */
export function encodeJSON(obj: unknown): string {
  return (typeof obj === 'object' && obj !== null ? texts.get(obj) : undefined) ?? JSON.stringify(obj);
}
