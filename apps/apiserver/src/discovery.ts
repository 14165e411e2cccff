// Discovery documents kubectl reads before anything else: /version, /api, /apis, and one
// APIResourceList per group-version, all derived from the resource registry.
import { createHash } from 'node:crypto';
import type { ResourceInfo } from '@knet/api';

export const KUBE_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0-knet' };

export function versionInfo(): Record<string, string> {
  return {
    major: KUBE_VERSION.major,
    minor: KUBE_VERSION.minor,
    gitVersion: KUBE_VERSION.gitVersion,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: `node${process.versions.node}`,
    compiler: 'tsc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function groupVersion(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

/** Group-versions served, core first. */
export function groupVersions(resources: ResourceInfo[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const r of resources) seen.set(groupVersion(r.group, r.version), { group: r.group, version: r.version });
  return [...seen.values()].sort((a, b) => (a.group === '' ? -1 : b.group === '' ? 1 : a.group.localeCompare(b.group)));
}

export function apiVersions(serverAddress: string): object {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function apiGroup(group: string, versions: string[]): object {
  const vs = versions.map((v) => ({ groupVersion: `${group}/${v}`, version: v }));
  return { name: group, versions: vs, preferredVersion: vs[0] };
}

export function apiGroupList(resources: ResourceInfo[]): object {
  const groups = new Map<string, string[]>();
  for (const gv of groupVersions(resources)) {
    if (gv.group === '') continue;
    const list = groups.get(gv.group) ?? [];
    list.push(gv.version);
    groups.set(gv.group, list);
  }
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([g, vs]) => apiGroup(g, vs)) };
}

export function apiGroupDoc(resources: ResourceInfo[], group: string): object | undefined {
  const versions = groupVersions(resources).filter((gv) => gv.group === group).map((gv) => gv.version);
  if (versions.length === 0) return undefined;
  return { kind: 'APIGroup', apiVersion: 'v1', ...apiGroup(group, versions) };
}

function storageVersionHash(r: ResourceInfo): string {
  return createHash('sha256').update(`${r.group}/${r.version}/${r.kind}`).digest('base64').slice(0, 11);
}

export function apiResourceList(resources: ResourceInfo[], group: string, version: string): object | undefined {
  // alphabetical, as kube-apiserver lists them: kubectl expands categories ("all") in this order
  const rs = resources.filter((r) => r.group === group && r.version === version).sort((a, b) => a.plural.localeCompare(b.plural));
  if (rs.length === 0) return undefined;
  const out: object[] = [];
  for (const r of rs) {
    const entry: Record<string, unknown> = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.verbs,
    };
    if (r.shortNames.length > 0) entry['shortNames'] = r.shortNames;
    if (r.categories.length > 0) entry['categories'] = r.categories;
    entry['storageVersionHash'] = storageVersionHash(r);
    out.push(entry);
    for (const sub of r.subresources) {
      out.push({ name: `${r.plural}/${sub}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: ['get', 'patch', 'update'] });
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersion(group, version), resources: out };
}
