// Deep copies of API objects: JSON data (plain objects, arrays, strings, numbers, booleans, null),
// as decoded from a request or held by the store. structuredClone handles any value and costs ten
// times as much for them (a Pod's spec: 4 µs against 0.4 µs), and the apiserver copies on every write.

/** A deep copy of JSON data, with what structuredClone would give for it. */
export function cloneJSON<T>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) out[i] = cloneJSON(value[i]);
    return out as T;
  }
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = cloneJSON((value as Record<string, unknown>)[k]);
    // a key "__proto__" (JSON.parse makes it an own property) is data, not the prototype
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, writable: true, enumerable: true, configurable: true });
    else out[k] = v;
  }
  return out as T;
}
