// Errors that cross the store's API: values with a Kubernetes reason, so the
// apiserver can map them to a metav1.Status without parsing messages.

export type StoreErrorReason = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'StorageError';

export class StoreError extends Error {
  reason: StoreErrorReason;

  constructor(reason: StoreErrorReason, message: string) {
    super(message);
    this.name = 'StoreError';
    this.reason = reason;
  }
}

/**
 * Kubernetes names a resource in messages as `<resource>.<group>`
 * (`endpointslices.discovery.k8s.io`); our opaque key is `<group>/<resource>`.
 */
export function qualifiedResource(resource: string): string {
  const slash = resource.lastIndexOf('/');
  if (slash < 0) return resource;
  return `${resource.slice(slash + 1)}.${resource.slice(0, slash)}`;
}

export function notFound(resource: string, name: string): StoreError {
  return new StoreError('NotFound', `${qualifiedResource(resource)} "${name}" not found`);
}

export function alreadyExists(resource: string, name: string): StoreError {
  return new StoreError('AlreadyExists', `${qualifiedResource(resource)} "${name}" already exists`);
}

export function conflict(resource: string, name: string): StoreError {
  return new StoreError(
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(resource)} "${name}": ` +
      'the object has been modified; please apply your changes to the latest version and try again',
  );
}

export function preconditionFailed(field: 'UID' | 'ResourceVersion', wanted: string, actual: string): StoreError {
  return new StoreError(
    'Conflict',
    `Precondition failed: ${field} in precondition: ${wanted}, ${field} in object meta: ${actual}`,
  );
}

export function tooOldResourceVersion(requested: number | string, oldest: number): StoreError {
  return new StoreError('Gone', `too old resource version: ${requested} (${oldest})`);
}

export const CONTINUE_TOO_OLD =
  'The provided continue parameter is too old to display a consistent list result. ' +
  'You can start a new list without the continue parameter.';

export function storageError(message: string, cause?: unknown): StoreError {
  const detail = cause instanceof Error ? `: ${cause.message}` : cause !== undefined ? `: ${String(cause)}` : '';
  return new StoreError('StorageError', message + detail);
}
