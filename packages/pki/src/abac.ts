// Kubernetes' ABAC policy file (--authorization-policy-file): one JSON Policy per line,
// evaluated as pkg/auth/authorizer/abac does. One knet extension: `resource: "services/status"`
// matches only that subresource (Kubernetes matches `resource` against the plural alone, so there
// `services` also covers services/status, and a "services/status" line matches nothing).
import { readFile } from 'node:fs/promises';
import { isReadOnly, type Attributes, type Authorizer, type Rules, type UserInfo } from './authorization.js';

export const ABAC_API_VERSION = 'abac.authorization.kubernetes.io/v1beta1';

export interface PolicySpec {
  user?: string;
  group?: string;
  readonly?: boolean;
  apiGroup?: string;
  resource?: string;
  namespace?: string;
  nonResourcePath?: string;
}

export interface Policy {
  apiVersion: typeof ABAC_API_VERSION;
  kind: 'Policy';
  spec: PolicySpec;
}

export class PolicyFileError extends Error {
  constructor(readonly line: number, readonly detail: string, readonly file?: string) {
    super(`${file ? `${file}:` : 'line '}${line}: ${detail}`);
    this.name = 'PolicyFileError';
  }
}

const STRING_FIELDS = ['user', 'group', 'apiGroup', 'resource', 'namespace', 'nonResourcePath'] as const;

export function policy(spec: PolicySpec): Policy {
  return { apiVersion: ABAC_API_VERSION, kind: 'Policy', spec };
}

function parsePolicy(line: string, lineNo: number): Policy {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch (e) {
    throw new PolicyFileError(lineNo, `not JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  const obj = v as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new PolicyFileError(lineNo, 'a policy must be a JSON object');
  if (obj['apiVersion'] !== ABAC_API_VERSION) throw new PolicyFileError(lineNo, `apiVersion must be ${JSON.stringify(ABAC_API_VERSION)}, got ${JSON.stringify(obj['apiVersion'])}`);
  if (obj['kind'] !== 'Policy') throw new PolicyFileError(lineNo, `kind must be "Policy", got ${JSON.stringify(obj['kind'])}`);
  const s = obj['spec'];
  if (typeof s !== 'object' || s === null || Array.isArray(s)) throw new PolicyFileError(lineNo, 'spec must be an object');
  const spec: PolicySpec = {};
  for (const [k, val] of Object.entries(s)) {
    if (k === 'readonly') {
      if (typeof val !== 'boolean') throw new PolicyFileError(lineNo, `spec.readonly must be true or false, got ${JSON.stringify(val)}`);
      spec.readonly = val;
    } else if ((STRING_FIELDS as readonly string[]).includes(k)) {
      if (typeof val !== 'string') throw new PolicyFileError(lineNo, `spec.${k} must be a string, got ${JSON.stringify(val)}`);
      spec[k as (typeof STRING_FIELDS)[number]] = val;
    } else {
      // a misspelt field would silently widen or narrow a grant: refuse it
      throw new PolicyFileError(lineNo, `unknown field spec.${k} (known: ${[...STRING_FIELDS, 'readonly'].join(', ')})`);
    }
  }
  if (!spec.user && !spec.group) throw new PolicyFileError(lineNo, 'spec needs a user or a group ("*" for everyone)');
  if (spec.nonResourcePath !== undefined && (spec.resource !== undefined || spec.namespace !== undefined || spec.apiGroup !== undefined)) {
    throw new PolicyFileError(lineNo, 'a policy is either for resources (resource, namespace, apiGroup) or for a nonResourcePath, not both');
  }
  return { apiVersion: ABAC_API_VERSION, kind: 'Policy', spec };
}

/** Parses a policy file; blank lines and `#` comments are skipped, as Kubernetes does. */
export function parsePolicyFile(text: string): Policy[] {
  const out: Policy[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    out.push(parsePolicy(line, i + 1));
  });
  return out;
}

export function formatPolicyFile(policies: Policy[]): string {
  return policies.map((p) => JSON.stringify(p) + '\n').join('');
}

export async function readPolicyFile(path: string): Promise<Policy[]> {
  const text = await readFile(path, 'utf8');
  try {
    return parsePolicyFile(text);
  } catch (err) {
    if (err instanceof PolicyFileError) throw new PolicyFileError(err.line, err.detail, path);
    throw err;
  }
}

function subjectMatches(p: PolicySpec, user: UserInfo): boolean {
  let matched = false;
  if (p.user) {
    if (p.user !== '*' && p.user !== user.name) return false;
    matched = true;
  }
  if (p.group) {
    if (p.group !== '*' && !user.groups.includes(p.group)) return false;
    matched = true;
  }
  return matched;
}

function resourceMatches(p: PolicySpec, a: Attributes): boolean {
  if (!a.resourceRequest || p.nonResourcePath !== undefined) return false;
  const ns = p.namespace ?? '';
  const group = p.apiGroup ?? '';
  const res = p.resource ?? '';
  if (ns !== '*' && ns !== (a.namespace ?? '')) return false;
  if (group !== '*' && group !== (a.apiGroup ?? '')) return false;
  if (res === '*') return true;
  if (res.includes('/')) return a.subresource !== undefined && res === `${a.resource}/${a.subresource}`;
  return res === a.resource;
}

function nonResourceMatches(p: PolicySpec, a: Attributes): boolean {
  if (a.resourceRequest || p.nonResourcePath === undefined) return false;
  const path = a.path ?? '';
  const want = p.nonResourcePath;
  if (want === '*' || want === path) return true;
  return want.endsWith('*') && path.startsWith(want.replace(/\*+$/, ''));
}

export function policyMatches(p: Policy, a: Attributes): boolean {
  const s = p.spec;
  if (!subjectMatches(s, a.user)) return false;
  if (s.readonly && !isReadOnly(a)) return false;
  return resourceMatches(s, a) || nonResourceMatches(s, a);
}

function rules(policies: Policy[], user: UserInfo, namespace: string): Rules {
  const out: Rules = { resourceRules: [], nonResourceRules: [] };
  for (const { spec: s } of policies) {
    if (!subjectMatches(s, user)) continue;
    const verbs = s.readonly ? ['get', 'list', 'watch'] : ['*'];
    if (s.nonResourcePath !== undefined) {
      out.nonResourceRules.push({ verbs, nonResourceURLs: [s.nonResourcePath] });
    } else if (s.resource && (s.namespace === '*' || (s.namespace ?? '') === namespace)) {
      out.resourceRules.push({ verbs, apiGroups: [s.apiGroup ?? ''], resources: [s.resource] });
    }
  }
  return out;
}

export function abacAuthorizer(policies: Policy[]): Authorizer {
  return {
    name: 'ABAC',
    authorize: (a) => (policies.some((p) => policyMatches(p, a)) ? 'allow' : 'no-opinion'),
    rules: (user, namespace) => rules(policies, user, namespace),
  };
}
