// Parses Kubernetes REST paths into (group, version, resource, namespace, name, subresource).
// Pure: knows nothing of which resources exist; the router checks that against the registry.

export interface ResourcePath {
  group: string; // '' for core
  version: string;
  plural: string;
  namespace?: string; // set for namespaced requests (and for the namespace's own sub-collections)
  name?: string;
  subresource?: string;
}

/** Returns undefined when the path is not a resource path (discovery or unknown). */
export function parseResourcePath(pathname: string, isNamespaced: (group: string, plural: string) => boolean | undefined): ResourcePath | undefined {
  const segs = pathname.split('/').filter((s) => s.length > 0).map(safeDecode);
  if (segs.some((s) => s === undefined)) return undefined;
  const parts = segs as string[];
  let group: string;
  let version: string;
  let rest: string[];
  if (parts[0] === 'api' && parts.length >= 3) {
    group = '';
    version = parts[1]!;
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 4) {
    group = parts[1]!;
    version = parts[2]!;
    rest = parts.slice(3);
  } else {
    return undefined;
  }
  // /namespaces/{ns}/{plural}[/{name}[/{sub}]] when {plural} is a namespaced resource
  if (rest[0] === 'namespaces' && rest.length >= 3 && isNamespaced(group, rest[2]!) === true) {
    if (rest.length > 5) return undefined;
    return clean({ group, version, plural: rest[2]!, namespace: rest[1]!, name: rest[3], subresource: rest[4] });
  }
  if (rest.length > 3) return undefined;
  return clean({ group, version, plural: rest[0]!, name: rest[1], subresource: rest[2] });
}

function clean(p: ResourcePath): ResourcePath {
  const out: ResourcePath = { group: p.group, version: p.version, plural: p.plural };
  if (p.namespace !== undefined) out.namespace = p.namespace;
  if (p.name !== undefined) out.name = p.name;
  if (p.subresource !== undefined) out.subresource = p.subresource;
  return out;
}

function safeDecode(s: string): string | undefined {
  if (!s.includes('%')) return s; // nothing to decode: most segments, and decodeURIComponent is not free
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
