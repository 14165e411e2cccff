// A request → authorizer Attributes, as kube-apiserver's RequestInfo resolves it: the verb from
// method + name + watch, and for list/watch narrowed by `fieldSelector=metadata.name=x` the name x
// (so a pod identity may watch its own Pod).
import type { Attributes, UserInfo } from '@knet/pki';
import type { ResourcePath } from './request-path.js';

export function resourceVerb(method: string, hasName: boolean, query: URLSearchParams): string {
  const watch = query.get('watch') === '1' || query.get('watch') === 'true';
  switch (method) {
    case 'GET':
    case 'HEAD':
      return watch ? 'watch' : hasName ? 'get' : 'list';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return hasName ? 'delete' : 'deletecollection';
    default: return method.toLowerCase();
  }
}

/** `metadata.name=x` (or `==`) in a field selector, when it is the only way the name is given. */
export function nameFromFieldSelector(fs: string | null): string | undefined {
  if (!fs) return undefined;
  for (const term of fs.split(',')) {
    const m = /^\s*metadata\.name\s*==?\s*(.+?)\s*$/.exec(term);
    if (m) return m[1];
  }
  return undefined;
}

export function resourceAttributes(user: UserInfo, method: string, rp: ResourcePath, query: URLSearchParams): Attributes {
  const verb = resourceVerb(method, rp.name !== undefined, query);
  let name = rp.name;
  if (name === undefined && (verb === 'list' || verb === 'watch')) name = nameFromFieldSelector(query.get('fieldSelector'));
  // as RequestInfo: /api/v1/namespaces/x is resource "namespaces", name x, in the namespace x
  const namespace = rp.plural === 'namespaces' ? (rp.name ?? '') : rp.namespace ?? '';
  return {
    user, verb, resourceRequest: true, namespace, apiGroup: rp.group, resource: rp.plural,
    ...(rp.subresource ? { subresource: rp.subresource } : {}),
    ...(name !== undefined ? { name } : {}),
  };
}

export function pathAttributes(user: UserInfo, method: string, path: string): Attributes {
  return { user, verb: method === 'HEAD' ? 'get' : method.toLowerCase(), resourceRequest: false, path };
}
