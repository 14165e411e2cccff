// labelSelector / fieldSelector query parameters → one filter over stored objects.
import { checkFieldSelector, fieldsOf, parseFieldSelector, parseLabelSelector, type KubeObject, type ResourceInfo } from '@knet/api';
import { ApiError } from './status.js';

export function listFilter(info: ResourceInfo, labelSelector: string, fieldSelector: string): ((o: KubeObject) => boolean) | undefined {
  const filters: ((o: KubeObject) => boolean)[] = [];
  if (labelSelector.trim() !== '') {
    const sel = parseLabelSelector(labelSelector);
    if (sel instanceof Error) throw new ApiError(sel.status);
    if (!sel.empty()) filters.push((o) => sel.matches(o.metadata.labels ?? {}));
  }
  if (fieldSelector.trim() !== '') {
    const sel = parseFieldSelector(fieldSelector);
    if (sel instanceof Error) throw new ApiError(sel.status);
    // an unsupported field is an error before any object is seen, as kube-apiserver answers
    const bad = checkFieldSelector(info.kind, sel);
    if (bad) throw new ApiError(bad.status);
    if (!sel.empty()) filters.push((o) => sel.matches(fieldsOf(info.kind, o)));
  }
  if (filters.length === 0) return undefined;
  return (o) => filters.every((f) => f(o));
}
