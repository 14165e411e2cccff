// Applies the three patch types kubectl sends. Pure: (current object, patch body) → new object.
import { cloneJSON } from '@knet/api';
import jsonpatch from 'fast-json-patch';
import type { Schema } from './openapi-schemas.js';
import { PatchError, strategicMerge } from './strategic-merge.js';

export type PatchType = 'json' | 'merge' | 'strategic';

export const patchContentTypes: Record<string, PatchType> = {
  'application/json-patch+json': 'json',
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
};

export { PatchError };

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObj(patch)) return patch;
  const out: Record<string, unknown> = isObj(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '__proto__') continue;
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

export function applyPatch(type: PatchType, current: object, patch: unknown, schema: Schema | undefined): unknown {
  const base: unknown = cloneJSON(current);
  switch (type) {
    case 'merge':
      if (!isObj(patch)) throw new PatchError('merge patch must be a JSON object');
      return mergePatch(base, patch);
    case 'strategic':
      if (!isObj(patch)) throw new PatchError('strategic merge patch must be a JSON object');
      return strategicMerge(base, patch, schema);
    case 'json': {
      if (!Array.isArray(patch)) throw new PatchError('json patch must be a JSON array of operations');
      try {
        const errs = jsonpatch.validate(patch as jsonpatch.Operation[], base);
        if (errs) throw errs;
        return jsonpatch.applyPatch(base, patch as jsonpatch.Operation[], false, true).newDocument;
      } catch (e) {
        const msg = e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
        throw new PatchError(msg);
      }
    }
  }
}
