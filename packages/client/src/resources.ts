// Where each kind lives in the REST API, and the paths built from that.

export interface ResourceRef {
  /** '' for the core group (served under /api). */
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
}

export const resources = {
  namespaces: { group: '', version: 'v1', plural: 'namespaces', namespaced: false },
  services: { group: '', version: 'v1', plural: 'services', namespaced: true },
  endpoints: { group: '', version: 'v1', plural: 'endpoints', namespaced: true },
  pods: { group: '', version: 'v1', plural: 'pods', namespaced: true },
  nodes: { group: '', version: 'v1', plural: 'nodes', namespaced: false },
  endpointslices: { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', namespaced: true },
} as const satisfies Record<string, ResourceRef>;

/** `apiVersion` of objects of this resource: `v1`, `discovery.k8s.io/v1`. */
export function apiVersionOf(r: ResourceRef): string {
  return r.group ? `${r.group}/${r.version}` : r.version;
}

/**
 * The collection path; with a name, the object path; with a subresource, its path.
 * A namespaced resource without a namespace is the all-namespaces collection (list and watch only).
 */
export function resourcePath(r: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group ? `/apis/${enc(r.group)}/${enc(r.version)}` : `/api/${enc(r.version)}`;
  if (r.namespaced && namespace) p += `/namespaces/${enc(namespace)}`;
  p += `/${enc(r.plural)}`;
  if (name !== undefined) {
    if (!name) throw new TypeError(`a ${r.plural} name must not be empty`);
    if (r.namespaced && !namespace) throw new TypeError(`${r.plural} is namespaced: a namespace is required to address "${name}"`);
    p += `/${enc(name)}`;
    if (subresource) p += `/${enc(subresource)}`;
  }
  return p;
}

function enc(s: string): string {
  return encodeURIComponent(s);
}
