// Where each resource lives in the store, and its schema.
import type { ResourceInfo } from '@knet/api';
import { componentSchemas, schemaNameFor, type Schema } from './openapi-schemas.js';

/** The store's key for a resource: "services", "discovery.k8s.io/endpointslices". */
export function storeKey(info: ResourceInfo): string {
  return info.group ? `${info.group}/${info.plural}` : info.plural;
}

export function isCoreResource(info: ResourceInfo, plural: string): boolean {
  return info.group === '' && info.plural === plural;
}

export function schemaOf(info: ResourceInfo): Schema | undefined {
  const n = schemaNameFor(info.group, info.kind);
  return n ? componentSchemas[n] : undefined;
}
