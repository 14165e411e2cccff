// ObjectMeta validation (k8s.io/apimachinery/pkg/api/validation/objectmeta.go).
import type { ObjectMeta } from '../meta.js';
import { child, forbidden, index, invalid, required, tooLong, type FieldError } from '../field-errors.js';
import { isQualifiedName, isValidLabelValue, nameIsDNSLabel, type NameValidator } from './names.js';

export const TotalAnnotationSizeLimitB = 256 * 1024;
export const FieldImmutableErrorMsg = 'field is immutable';

export function validateLabelName(name: string, path: string): FieldError[] {
  return isQualifiedName(name).map((m) => invalid(path, name, m));
}

export function validateLabels(labels: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    errs.push(...validateLabelName(k, path));
    if (typeof v !== 'string') {
      errs.push(invalid(path, v, 'must be a string'));
      continue;
    }
    for (const m of isValidLabelValue(v)) errs.push(invalid(path, v, m));
  }
  return errs;
}

export function validateAnnotations(annotations: Record<string, string> | undefined, path: string): FieldError[] {
  const errs: FieldError[] = [];
  let size = 0;
  for (const [k, v] of Object.entries(annotations ?? {})) {
    // Annotation keys are qualified names, but case does not matter.
    for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid(path, k, m));
    size += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : String(v));
  }
  if (size > TotalAnnotationSizeLimitB) errs.push(tooLong(path, '', TotalAnnotationSizeLimitB));
  return errs;
}

export function validateImmutableField(newVal: unknown, oldVal: unknown, path: string): FieldError[] {
  return deepEqual(newVal, oldVal) ? [] : [invalid(path, newVal, FieldImmutableErrorMsg)];
}

/**
 * Validates metadata on create. `requiresNamespace` is true for namespaced kinds.
 * Name generation has already happened, so an empty name is an error.
 */
export function validateObjectMeta(
  meta: ObjectMeta | undefined,
  requiresNamespace: boolean,
  nameFn: NameValidator,
  path = 'metadata',
): FieldError[] {
  const m = meta ?? {};
  const errs: FieldError[] = [];
  if (m.generateName) {
    for (const msg of nameFn(m.generateName, true)) errs.push(invalid(child(path, 'generateName'), m.generateName, msg));
  }
  if (!m.name) {
    errs.push(required(child(path, 'name'), 'name or generateName is required'));
  } else {
    for (const msg of nameFn(m.name, false)) errs.push(invalid(child(path, 'name'), m.name, msg));
  }
  if (requiresNamespace) {
    if (!m.namespace) errs.push(required(child(path, 'namespace'), ''));
    else for (const msg of nameIsDNSLabel(m.namespace, false)) errs.push(invalid(child(path, 'namespace'), m.namespace, msg));
  } else if (m.namespace) {
    errs.push(forbidden(child(path, 'namespace'), 'not allowed on this type'));
  }
  if (m.generation !== undefined && m.generation < 0) {
    errs.push(invalid(child(path, 'generation'), m.generation, 'must be greater than or equal to 0'));
  }
  errs.push(...validateLabels(m.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(m.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(m, child(path, 'ownerReferences')));
  for (const f of m.finalizers ?? []) {
    for (const msg of isQualifiedName(f)) errs.push(invalid(child(path, 'finalizers'), f, msg));
  }
  return errs;
}

function validateOwnerReferences(m: ObjectMeta, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (m.ownerReferences ?? []).forEach((r, i) => {
    const p = index(path, i);
    const version = (r.apiVersion ?? '').split('/').pop() ?? '';
    if (!version) errs.push(invalid(child(p, 'apiVersion'), r.apiVersion ?? '', 'version must not be empty'));
    if (!r.kind) errs.push(invalid(child(p, 'kind'), r.kind ?? '', 'kind must not be empty'));
    if (!r.name) errs.push(invalid(child(p, 'name'), r.name ?? '', 'name must not be empty'));
    if (!r.uid) errs.push(invalid(child(p, 'uid'), r.uid ?? '', 'uid must not be empty'));
  });
  return errs;
}

/** Validates metadata on update: identity fields are immutable and a resourceVersion is required. */
export function validateObjectMetaUpdate(newMeta: ObjectMeta, oldMeta: ObjectMeta, path = 'metadata'): FieldError[] {
  const errs: FieldError[] = [];
  if (oldMeta.deletionTimestamp) {
    const old = new Set(oldMeta.finalizers ?? []);
    for (const f of newMeta.finalizers ?? []) {
      if (!old.has(f)) errs.push(forbidden(child(path, 'finalizers'), `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify([f])}`));
    }
  }
  if (!newMeta.resourceVersion) {
    errs.push(invalid(child(path, 'resourceVersion'), newMeta.resourceVersion ?? '', 'must be specified for an update'));
  }
  if ((newMeta.generation ?? 0) < (oldMeta.generation ?? 0)) {
    errs.push(invalid(child(path, 'generation'), newMeta.generation ?? 0, 'must not be decremented'));
  }
  errs.push(...validateImmutableField(newMeta.name ?? '', oldMeta.name ?? '', child(path, 'name')));
  errs.push(...validateImmutableField(newMeta.namespace ?? '', oldMeta.namespace ?? '', child(path, 'namespace')));
  errs.push(...validateImmutableField(newMeta.uid ?? '', oldMeta.uid ?? '', child(path, 'uid')));
  errs.push(...validateImmutableField(newMeta.creationTimestamp ?? null, oldMeta.creationTimestamp ?? null, child(path, 'creationTimestamp')));
  errs.push(...validateImmutableField(newMeta.deletionTimestamp ?? null, oldMeta.deletionTimestamp ?? null, child(path, 'deletionTimestamp')));
  errs.push(
    ...validateImmutableField(
      newMeta.deletionGracePeriodSeconds ?? null,
      oldMeta.deletionGracePeriodSeconds ?? null,
      child(path, 'deletionGracePeriodSeconds'),
    ),
  );
  errs.push(...validateLabels(newMeta.labels, child(path, 'labels')));
  errs.push(...validateAnnotations(newMeta.annotations, child(path, 'annotations')));
  errs.push(...validateOwnerReferences(newMeta, child(path, 'ownerReferences')));
  return errs;
}

/** Structural equality for JSON values (what apiequality.Semantic.DeepEqual does for our types). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((x, i) => deepEqual(x, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => deepEqual(ao[k], bo[k]));
}
