// kubeconfig: read the file kubectl reads (current-context, clusters, users) into a ClusterConfig, and write one.
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve, delimiter } from 'node:path';
import { createRequire } from 'node:module';
import type { ClusterConfig } from './client.js';

// js-yaml is required on first use: the kubeconfigs `knet up` gives its components are JSON (JSON is YAML, so
// kubectl reads them too), and a component that never meets YAML keeps ~1 MiB of parser out of its heap.
let yamlLib: typeof import('js-yaml') | undefined;
const yaml = (): typeof import('js-yaml') => (yamlLib ??= createRequire(import.meta.url)('js-yaml') as typeof import('js-yaml'));

interface Named<T> {
  name: string;
  value: T;
}

interface ClusterEntry {
  server?: string;
  'certificate-authority'?: string;
  'certificate-authority-data'?: string;
  'insecure-skip-tls-verify'?: boolean;
}

interface UserEntry {
  token?: string;
  tokenFile?: string;
  'client-certificate'?: string;
  'client-certificate-data'?: string;
  'client-key'?: string;
  'client-key-data'?: string;
}

interface ContextEntry {
  cluster?: string;
  user?: string;
  namespace?: string;
}

/** The merged view of one or more kubeconfig files; the first file that sets a name wins (kubectl's rule). */
interface Merged {
  currentContext?: string;
  clusters: Map<string, { entry: ClusterEntry; dir: string }>;
  users: Map<string, { entry: UserEntry; dir: string }>;
  contexts: Map<string, ContextEntry>;
}

/** The kubeconfig paths to read: the argument, else every entry of $KUBECONFIG, else ~/.kube/config. */
export function kubeconfigPaths(path?: string): string[] {
  if (path) return [path];
  const env = process.env.KUBECONFIG;
  if (env) {
    const paths = env.split(delimiter).filter((p) => p.length > 0);
    if (paths.length > 0) return paths;
  }
  return [join(homedir(), '.kube', 'config')];
}

export async function loadKubeconfig(path?: string, context?: string): Promise<ClusterConfig> {
  const paths = kubeconfigPaths(path);
  const merged: Merged = { clusters: new Map(), users: new Map(), contexts: new Map() };
  let readAny = false;
  for (const p of paths) {
    let text: string;
    try {
      text = await readFile(p, 'utf8');
    } catch (err) {
      // $KUBECONFIG may list files that do not exist; kubectl skips them. An explicit path must exist.
      if (paths.length > 1 && (err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new Error(`cannot read kubeconfig ${p}: ${(err as Error).message}`);
    }
    readAny = true;
    mergeInto(merged, parseKubeconfig(text, p), dirname(resolve(p)));
  }
  if (!readAny) throw new Error(`no kubeconfig found in ${paths.join(delimiter)}`);
  return resolveContext(merged, context);
}

/** Parses one kubeconfig document; `source` names it in errors. */
function parseKubeconfig(text: string, source: string): { current?: string; clusters: Named<ClusterEntry>[]; users: Named<UserEntry>[]; contexts: Named<ContextEntry>[] } {
  let doc: unknown;
  try {
    doc = /^\s*\{/.test(text) ? parseJsonOrYaml(text) : yaml().load(text);
  } catch (err) {
    throw new Error(`kubeconfig ${source} is not valid YAML: ${(err as Error).message}`);
  }
  if (doc === undefined || doc === null) doc = {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw new Error(`kubeconfig ${source} is not a YAML mapping`);
  const d = doc as Record<string, unknown>;
  const current = d['current-context'];
  return {
    current: typeof current === 'string' && current ? current : undefined,
    clusters: namedList<ClusterEntry>(d.clusters, 'cluster', source),
    users: namedList<UserEntry>(d.users, 'user', source),
    contexts: namedList<ContextEntry>(d.contexts, 'context', source),
  };
}

function namedList<T>(v: unknown, field: string, source: string): Named<T>[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Error(`kubeconfig ${source}: ${field}s must be a list`);
  return v.map((item, i) => {
    const it = item as Record<string, unknown> | null;
    if (!it || typeof it.name !== 'string') throw new Error(`kubeconfig ${source}: ${field}s[${i}] has no name`);
    const value = it[field] ?? {};
    if (typeof value !== 'object') throw new Error(`kubeconfig ${source}: ${field}s[${i}].${field} must be a mapping`);
    return { name: it.name, value: value as T };
  });
}

function mergeInto(m: Merged, doc: ReturnType<typeof parseKubeconfig>, dir: string): void {
  m.currentContext ??= doc.current;
  for (const c of doc.clusters) if (!m.clusters.has(c.name)) m.clusters.set(c.name, { entry: c.value, dir });
  for (const u of doc.users) if (!m.users.has(u.name)) m.users.set(u.name, { entry: u.value, dir });
  for (const c of doc.contexts) if (!m.contexts.has(c.name)) m.contexts.set(c.name, c.value);
}

async function resolveContext(m: Merged, wanted?: string): Promise<ClusterConfig> {
  const ctxName = wanted || m.currentContext;
  if (!ctxName) throw new Error('kubeconfig has no current-context and no context was given');
  const ctx = m.contexts.get(ctxName);
  if (!ctx) throw new Error(`kubeconfig has no context named "${ctxName}"`);
  if (!ctx.cluster) throw new Error(`kubeconfig context "${ctxName}" names no cluster`);
  const cluster = m.clusters.get(ctx.cluster);
  if (!cluster) throw new Error(`kubeconfig context "${ctxName}" names cluster "${ctx.cluster}", which is not defined`);
  if (!cluster.entry.server) throw new Error(`kubeconfig cluster "${ctx.cluster}" has no server`);

  const cfg: ClusterConfig = { server: cluster.entry.server };
  if (ctx.namespace) cfg.namespace = ctx.namespace;
  if (cluster.entry['insecure-skip-tls-verify']) cfg.insecureSkipTLSVerify = true;
  cfg.caData = await dataOrFile(cluster.entry['certificate-authority-data'], cluster.entry['certificate-authority'], cluster.dir, 'certificate-authority');

  if (ctx.user) {
    const user = m.users.get(ctx.user);
    if (!user) throw new Error(`kubeconfig context "${ctxName}" names user "${ctx.user}", which is not defined`);
    const u = user.entry;
    if (u.token) cfg.token = u.token;
    else if (u.tokenFile) cfg.token = (await readRelative(u.tokenFile, user.dir, 'tokenFile')).trim();
    cfg.certData = await dataOrFile(u['client-certificate-data'], u['client-certificate'], user.dir, 'client-certificate');
    cfg.keyData = await dataOrFile(u['client-key-data'], u['client-key'], user.dir, 'client-key');
  }
  for (const k of Object.keys(cfg) as (keyof ClusterConfig)[]) if (cfg[k] === undefined) delete cfg[k];
  return cfg;
}

/** `*-data` fields are base64 PEM; the file variants are paths relative to the kubeconfig's directory. */
async function dataOrFile(data: string | undefined, file: string | undefined, dir: string, field: string): Promise<string | undefined> {
  if (data) return Buffer.from(data, 'base64').toString('utf8');
  if (file) return readRelative(file, dir, field);
  return undefined;
}

async function readRelative(file: string, dir: string, field: string): Promise<string> {
  const p = isAbsolute(file) ? file : join(dir, file);
  try {
    return await readFile(p, 'utf8');
  } catch (err) {
    throw new Error(`kubeconfig ${field} ${p}: ${(err as Error).message}`);
  }
}

export interface KubeconfigSpec {
  server: string;
  token?: string;
  /** PEM; written base64 as certificate-authority-data. */
  caData?: string;
  /** Names of the user, cluster and context entries (default `knet`). */
  user?: string;
  cluster?: string;
  namespace?: string;
}

/** A flow mapping may still be YAML that is not JSON (unquoted keys): then it is read as YAML. */
function parseJsonOrYaml(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return yaml().load(text);
  }
}

/** A kubeconfig kubectl uses as is, in YAML: one cluster, one user, one context, made current. */
export function kubeconfigYaml(cfg: KubeconfigSpec): string {
  return yaml().dump(kubeconfigDocument(cfg), { lineWidth: -1, noRefs: true });
}

/** The same kubeconfig in JSON, which kubectl reads as well, for programs that need no YAML parser. */
export function kubeconfigJson(cfg: KubeconfigSpec): string {
  return `${JSON.stringify(kubeconfigDocument(cfg), null, 2)}\n`;
}

function kubeconfigDocument(cfg: KubeconfigSpec): Record<string, unknown> {
  const clusterName = cfg.cluster || 'knet';
  const userName = cfg.user || 'knet';
  const cluster: Record<string, string> = { server: cfg.server };
  if (cfg.caData) cluster['certificate-authority-data'] = Buffer.from(cfg.caData, 'utf8').toString('base64');
  const user: Record<string, string> = {};
  if (cfg.token) user.token = cfg.token;
  const context: Record<string, string> = { cluster: clusterName, user: userName };
  if (cfg.namespace) context.namespace = cfg.namespace;
  return {
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    clusters: [{ name: clusterName, cluster }],
    users: [{ name: userName, user }],
    contexts: [{ name: clusterName, context }],
    'current-context': clusterName,
  };
}
