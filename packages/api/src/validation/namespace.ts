// Namespace validation (ValidateNamespace / ValidateNamespaceUpdate).
import type { Namespace } from '../core.js';
import { invalid, type FieldError } from '../field-errors.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './meta.js';
import { isQualifiedName, nameIsDNSLabel } from './names.js';

const standardFinalizers = new Set(['kubernetes', 'orphan', 'foregroundDeletion']);

export function validateFinalizerName(name: string, path: string): FieldError[] {
  const errs = isQualifiedName(name).map((m) => invalid(path, name, m));
  if (errs.length === 0 && !standardFinalizers.has(name) && !name.includes('/')) {
    errs.push(invalid(path, name, 'name is neither a standard finalizer name nor is it fully qualified'));
  }
  return errs;
}

export function validateNamespace(ns: Namespace): FieldError[] {
  const errs = validateObjectMeta(ns.metadata, false, nameIsDNSLabel);
  for (const f of ns.spec?.finalizers ?? []) errs.push(...validateFinalizerName(f, 'spec.finalizers'));
  return errs;
}

export function validateNamespaceUpdate(ns: Namespace, old: Namespace): FieldError[] {
  return validateObjectMetaUpdate(ns.metadata ?? {}, old.metadata ?? {});
}
