// meta/v1 Status errors as kube-apiserver returns them. ApiError carries one across async code
// so every handler failure ends as a Status body with the right HTTP code.
import type { Status, StatusDetails, StatusReason } from '@knet/api';

export class ApiError extends Error {
  readonly status: Status;
  constructor(status: Status) {
    super(status.message ?? status.reason ?? 'error');
    this.status = status;
  }
}

export function failure(code: number, reason: StatusReason, message: string, details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

export function success(details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 200 };
  if (details) s.details = details;
  return s;
}

/** `resource` is the plural (e.g. "services"); group "" for core. As k8s: `services "x" not found`. */
export function qualified(resource: string, group: string): string {
  return group ? `${resource}.${group}` : resource;
}

export const errors = {
  notFound: (resource: string, name: string, group = ''): Status =>
    failure(404, 'NotFound', `${qualified(resource, group)} "${name}" not found`, withGroup({ name, kind: resource }, group)),
  alreadyExists: (resource: string, name: string, group = ''): Status =>
    failure(409, 'AlreadyExists', `${qualified(resource, group)} "${name}" already exists`, withGroup({ name, kind: resource }, group)),
  conflict: (resource: string, name: string, msg: string, group = ''): Status =>
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(resource, group)} "${name}": ${msg}`, withGroup({ name, kind: resource }, group)),
  badRequest: (msg: string): Status => failure(400, 'BadRequest', msg),
  gone: (msg: string): Status => failure(410, 'Gone', msg),
  expired: (msg: string): Status => failure(410, 'Expired', msg),
  methodNotAllowed: (msg = 'the server does not allow this method on the requested resource'): Status =>
    failure(405, 'MethodNotAllowed', msg),
  tooLarge: (msg = 'the request is too large'): Status => failure(413, 'RequestEntityTooLarge', msg),
  unsupportedMediaType: (contentType: string): Status =>
    failure(415, 'UnsupportedMediaType', `the body of the request was in an unknown format - accepted media types include: application/json, application/vnd.kubernetes.protobuf, application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json; got ${JSON.stringify(contentType)}`),
  notAcceptable: (msg: string): Status => failure(406, 'NotAcceptable', msg),
  internal: (msg: string): Status =>
    failure(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] }),
  unavailable: (msg: string): Status => failure(503, 'ServiceUnavailable', msg),
  pathNotFound: (): Status => failure(404, 'NotFound', 'the server could not find the requested resource', {}),
};

function withGroup(d: StatusDetails, group: string): StatusDetails {
  return group ? { ...d, group } : d;
}

/** Store errors (duck-typed on `reason`, see @knet/store StoreError) → Status. */
export function fromStoreError(err: unknown, resource: string, group: string, name: string): Status | undefined {
  if (!(err instanceof Error) || !('reason' in err)) return undefined;
  const reason = (err as Error & { reason: unknown }).reason;
  switch (reason) {
    case 'NotFound': return errors.notFound(resource, name, group);
    case 'AlreadyExists': return errors.alreadyExists(resource, name, group);
    case 'Conflict':
      return /precondition/i.test(err.message)
        ? errors.conflict(resource, name, err.message, group)
        : errors.conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again', group);
    case 'Gone': return errors.gone(err.message);
    case 'StorageError': return errors.internal(err.message);
    default: return undefined;
  }
}

/** Any thrown value → Status; unknown errors become a 500 without a stack trace. */
export function toStatus(err: unknown): Status {
  if (err instanceof ApiError) return err.status;
  const msg = err instanceof Error ? err.message : String(err);
  return errors.internal(msg);
}
