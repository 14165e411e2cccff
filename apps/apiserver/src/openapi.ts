// /openapi/v3: the index and one document per group-version. kubectl 1.32 reads these to decide
// that the server validates fields itself (fieldValidation on PATCH operations carrying the
// kind's x-kubernetes-group-version-kind) and to compute apply patches from the list merge keys.
import { createHash } from 'node:crypto';
import type { ResourceInfo } from '@knet/api';
import { componentSchemas, ref, schemaNameFor, type Schema } from './openapi-schemas.js';
import { groupVersion } from './discovery.js';

type Operation = Record<string, unknown>;

function gvPath(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

function param(name: string, where: 'query' | 'path', schema: Schema = { type: 'string' }): object {
  return { name, in: where, ...(where === 'path' ? { required: true } : {}), schema, uniqueItems: true };
}

const writeParams = [param('dryRun', 'query'), param('fieldManager', 'query'), param('fieldValidation', 'query')];
const listParams = ['allowWatchBookmarks', 'continue', 'fieldSelector', 'labelSelector', 'limit', 'resourceVersion',
  'resourceVersionMatch', 'sendInitialEvents', 'timeoutSeconds', 'watch'].map((n) => param(n, 'query'));

function jsonBody(schemaName: string): object {
  return { content: { '*/*': { schema: ref(schemaName) } }, required: true };
}
function okResponse(schemaName: string, code = '200'): object {
  return { [code]: { description: 'OK', content: { 'application/json': { schema: ref(schemaName) } } } };
}

function op(r: ResourceInfo, action: string, opId: string, extra: Operation): Operation {
  return {
    operationId: opId,
    ...extra,
    'x-kubernetes-action': action,
    'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
  };
}

function pathsFor(r: ResourceInfo): Record<string, object> {
  const name = schemaNameFor(r.group, r.kind);
  const listName = schemaNameFor(r.group, r.listKind);
  if (!name || !listName) return {};
  const base = `/${gvPath(r.group, r.version)}`;
  const scope = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const scopeParams = r.namespaced ? [param('namespace', 'path')] : [];
  const id = r.kind;
  const out: Record<string, object> = {};
  out[scope] = {
    parameters: scopeParams,
    get: op(r, 'list', `list${id}`, { parameters: listParams, responses: okResponse(listName) }),
    post: op(r, 'post', `create${id}`, { parameters: writeParams, requestBody: jsonBody(name), responses: okResponse(name, '201') }),
  };
  const item = {
    get: op(r, 'get', `read${id}`, { responses: okResponse(name) }),
    put: op(r, 'put', `replace${id}`, { parameters: writeParams, requestBody: jsonBody(name), responses: okResponse(name) }),
    patch: op(r, 'patch', `patch${id}`, {
      parameters: [...writeParams, param('force', 'query', { type: 'boolean' })],
      requestBody: {
        content: Object.fromEntries(['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml']
          .map((t) => [t, { schema: { type: 'object' } }])),
        required: true,
      },
      responses: okResponse(name),
    }),
    delete: op(r, 'delete', `delete${id}`, { parameters: [param('dryRun', 'query'), param('gracePeriodSeconds', 'query')], responses: okResponse(name) }),
  };
  out[`${scope}/{name}`] = { parameters: [param('name', 'path'), ...scopeParams], ...item };
  for (const sub of r.subresources) {
    const { delete: _d, ...subOps } = item;
    void _d;
    out[`${scope}/{name}/${sub}`] = { parameters: [param('name', 'path'), ...scopeParams], ...subOps };
  }
  if (r.namespaced) {
    out[`${base}/${r.plural}`] = { get: op(r, 'list', `list${id}ForAllNamespaces`, { parameters: listParams, responses: okResponse(listName) }) };
  }
  return out;
}

/** Schemas reachable from the given roots, so each document is self-contained. */
function reachable(roots: string[]): Record<string, Schema> {
  const out: Record<string, Schema> = {};
  const stack = [...roots];
  while (stack.length > 0) {
    const n = stack.pop()!;
    if (out[n] || !componentSchemas[n]) continue;
    out[n] = componentSchemas[n]!;
    JSON.stringify(out[n], (k, v: unknown) => {
      if (k === '$ref' && typeof v === 'string') stack.push(v.replace('#/components/schemas/', ''));
      return v;
    });
  }
  return out;
}

export function openapiDocument(resources: ResourceInfo[], group: string, version: string): object | undefined {
  const rs = resources.filter((r) => r.group === group && r.version === version);
  if (rs.length === 0) return undefined;
  const paths: Record<string, object> = {};
  const roots: string[] = [];
  for (const r of rs) {
    Object.assign(paths, pathsFor(r));
    for (const k of [r.kind, r.listKind]) {
      const n = schemaNameFor(r.group, k);
      if (n) roots.push(n);
    }
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'v1.32.0-knet' },
    paths,
    components: { schemas: reachable([...roots, 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']) },
  };
}

export interface OpenApiV3 {
  index: object;
  documents: Map<string, string>; // 'api/v1' → JSON text
}

/** Builds every document once (they only change with the registry). */
export function buildOpenApiV3(resources: ResourceInfo[]): OpenApiV3 {
  const documents = new Map<string, string>();
  const paths: Record<string, object> = {};
  const gvs = new Map<string, { group: string; version: string }>();
  for (const r of resources) gvs.set(groupVersion(r.group, r.version), { group: r.group, version: r.version });
  for (const { group, version } of gvs.values()) {
    const doc = openapiDocument(resources, group, version);
    if (!doc) continue;
    const text = JSON.stringify(doc);
    const key = gvPath(group, version);
    documents.set(key, text);
    const hash = createHash('sha512').update(text).digest('hex').slice(0, 128).toUpperCase();
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { index: { paths }, documents };
}
