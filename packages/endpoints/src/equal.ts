// Structural equality with Kubernetes' "semantic" leniency: a missing field, null,
// an empty list and an empty map are the same thing.

function isEmpty(v: unknown): boolean {
  if (v === undefined || v === null) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') {
    // No Object.keys array: this runs for every field compared.
    for (const k in v as object) if (Object.hasOwn(v as object, k)) return false;
    return true;
  }
  return false;
}

/** `ignore`: keys left out of the comparison at any depth (e.g. a targetRef's resourceVersion). */
export function semanticEqual(a: unknown, b: unknown, ignore?: ReadonlySet<string>): boolean {
  if (a === b) return true;
  if (isEmpty(a) && isEmpty(b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    if (a.length !== bb.length) return false;
    for (let i = 0; i < a.length; i++) if (!semanticEqual(a[i], bb[i], ignore)) return false;
    return true;
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  for (const k in ao) {
    if (ignore?.has(k)) continue;
    // Own properties only: a key named "constructor" must not meet Object.prototype's.
    if (!semanticEqual(ao[k], Object.hasOwn(bo, k) ? bo[k] : undefined, ignore)) return false;
  }
  // Keys only b has: equal only when empty.
  for (const k in bo) {
    if (!Object.hasOwn(ao, k) && !ignore?.has(k) && !isEmpty(bo[k])) return false;
  }
  return true;
}

/** A deep copy of a JSON value (API objects are plain JSON; JSON is faster than structuredClone here). */
export function clone<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

/** JSON with object keys sorted, so equal values give equal strings. */
export function canonicalJson(v: unknown): string {
  return JSON.stringify(v, (_k, val: unknown) => {
    if (val && typeof val === 'object' && !Array.isArray(val)) {
      const o = val as Record<string, unknown>;
      const sorted: Record<string, unknown> = {};
      for (const key of Object.keys(o).sort()) sorted[key] = o[key];
      return sorted;
    }
    return val;
  });
}
