// Field selectors as k8s.io/apimachinery/pkg/fields plus the per-kind selectable
// fields kube-apiserver supports (PodToSelectableFields and friends).
import type { KubeObject } from './meta.js';
import type { Namespace, Node, Pod, Service } from './core.js';
import { SelectorParseError } from './selector-error.js';

export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

export interface FieldSelector {
  readonly requirements: readonly FieldRequirement[];
  matches(fields: Record<string, string>): boolean;
  empty(): boolean;
  toString(): string;
}

class RequirementsFieldSelector implements FieldSelector {
  constructor(readonly requirements: readonly FieldRequirement[]) {}
  matches(fields: Record<string, string>): boolean {
    return this.requirements.every((r) => {
      const v = fields[r.field] ?? '';
      return r.operator === '!=' ? v !== r.value : v === r.value;
    });
  }
  empty(): boolean {
    return this.requirements.length === 0;
  }
  toString(): string {
    return this.requirements.map((r) => `${r.field}${r.operator === '!=' ? '!=' : '='}${escapeValue(r.value)}`).join(',');
  }
}

const escapeValue = (v: string): string => v.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/=/g, '\\=');

/** Splits on unescaped commas. */
function splitTerms(s: string): string[] {
  if (s === '') return [];
  const out: string[] = [];
  let start = 0;
  let escaped = false;
  for (let i = 0; i < s.length; i++) {
    if (escaped) escaped = false;
    else if (s[i] === '\\') escaped = true;
    else if (s[i] === ',') {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out;
}

function unescapeValue(s: string): string | SelectorParseError {
  let out = '';
  let inSlash = false;
  for (const c of s) {
    if (inSlash) {
      if (c === '\\' || c === ',' || c === '=') out += c;
      else return new SelectorParseError(`invalid field selector: invalid escape sequence: \\${c}`);
      inSlash = false;
      continue;
    }
    if (c === '\\') inSlash = true;
    else if (c === ',' || c === '=') return new SelectorParseError(`invalid field selector: unescaped character ${c}`);
    else out += c;
  }
  if (inSlash) return new SelectorParseError('invalid field selector: invalid escape sequence: \\');
  return out;
}

const termOperators = ['!=', '==', '='] as const;

/** `metadata.name=x,metadata.namespace!=y`; `==` is the same as `=`. */
export function parseFieldSelector(text: string): FieldSelector | SelectorParseError {
  if (typeof text !== 'string') return new SelectorParseError('field selector must be a string');
  const reqs: FieldRequirement[] = [];
  for (const part of splitTerms(text).sort()) {
    if (part === '') continue;
    let found: FieldRequirement | undefined;
    for (let i = 0; i < part.length && !found; i++) {
      for (const op of termOperators) {
        if (part.startsWith(op, i)) {
          const value = unescapeValue(part.slice(i + op.length));
          if (value instanceof SelectorParseError) return value;
          found = { field: part.slice(0, i).trim(), operator: op, value };
          break;
        }
      }
    }
    if (!found) return new SelectorParseError(`invalid selector: '${text}'; can't understand '${part}'`);
    reqs.push(found);
  }
  return new RequirementsFieldSelector(reqs);
}

/** Field selector matching exactly these values (fields.SelectorFromSet). */
export function fieldSelectorFromMap(m: Record<string, string>): FieldSelector {
  return new RequirementsFieldSelector(Object.keys(m).sort().map((field) => ({ field, operator: '=', value: m[field]! })));
}

/** Normalises 'Pod', 'pod' and 'pods' to the plural resource name. */
function pluralOf(kind: string): string {
  const k = kind.toLowerCase();
  const map: Record<string, string> = {
    pod: 'pods', service: 'services', namespace: 'namespaces', node: 'nodes',
    endpoints: 'endpoints', endpointslice: 'endpointslices',
  };
  return map[k] ?? k;
}

const clusterScoped = new Set(['namespaces', 'nodes']);

/** The fields kube-apiserver lets a field selector use for a kind (plural or kind name). */
export function supportedFields(kind: string): string[] {
  const plural = pluralOf(kind);
  const meta = clusterScoped.has(plural) ? ['metadata.name'] : ['metadata.name', 'metadata.namespace'];
  switch (plural) {
    case 'pods':
      return [...meta, 'spec.nodeName', 'spec.restartPolicy', 'spec.schedulerName', 'spec.serviceAccountName',
        'spec.hostNetwork', 'status.phase', 'status.podIP', 'status.nominatedNodeName'];
    case 'services':
      return [...meta, 'spec.clusterIP', 'spec.type'];
    case 'namespaces':
      return [...meta, 'status.phase'];
    case 'nodes':
      return [...meta, 'spec.unschedulable'];
    default:
      return meta;
  }
}

/** The selectable field values of an object. */
export function fieldsOf(kind: string, obj: KubeObject): Record<string, string> {
  const plural = pluralOf(kind);
  const f: Record<string, string> = { 'metadata.name': obj.metadata?.name ?? '' };
  if (!clusterScoped.has(plural)) f['metadata.namespace'] = obj.metadata?.namespace ?? '';
  switch (plural) {
    case 'pods': {
      const p = obj as Pod;
      f['spec.nodeName'] = p.spec?.nodeName ?? '';
      f['spec.restartPolicy'] = p.spec?.restartPolicy ?? '';
      f['spec.schedulerName'] = p.spec?.schedulerName ?? '';
      f['spec.serviceAccountName'] = p.spec?.serviceAccountName ?? '';
      f['spec.hostNetwork'] = String(p.spec?.hostNetwork === true);
      f['status.phase'] = p.status?.phase ?? '';
      f['status.podIP'] = p.status?.podIPs?.[0]?.ip ?? p.status?.podIP ?? '';
      f['status.nominatedNodeName'] = p.status?.nominatedNodeName ?? '';
      break;
    }
    case 'services': {
      const s = obj as Service;
      f['spec.clusterIP'] = s.spec?.clusterIP ?? '';
      f['spec.type'] = s.spec?.type ?? '';
      break;
    }
    case 'namespaces':
      f['status.phase'] = (obj as Namespace).status?.phase ?? '';
      break;
    case 'nodes':
      f['spec.unschedulable'] = String((obj as Node).spec?.unschedulable === true);
      break;
  }
  return f;
}

/** BadRequest `field label not supported: <f>` for the first field the kind does not support. */
export function checkFieldSelector(kind: string, sel: FieldSelector): SelectorParseError | undefined {
  const ok = new Set(supportedFields(kind));
  const bad = sel.requirements.find((r) => !ok.has(r.field));
  return bad ? new SelectorParseError(`field label not supported: ${bad.field}`) : undefined;
}
