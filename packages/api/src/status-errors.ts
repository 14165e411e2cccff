// meta/v1 Status values for API errors, with the codes, reasons and messages
// kube-apiserver uses (k8s.io/apimachinery/pkg/api/errors).
import type { Status, StatusDetails, StatusReason } from './meta.js';
import { aggregateString, errorBody, goQuote, type FieldError } from './field-errors.js';

export const OptimisticLockErrorMsg =
  'the object has been modified; please apply your changes to the latest version and try again';

export function statusError(code: number, reason: StatusReason, message: string, details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

/** `services` or `endpointslices.discovery.k8s.io`, as schema.GroupResource prints. */
export function qualifiedResource(resource: string, group = ''): string {
  return group ? `${resource}.${group}` : resource;
}

function details(resource: string, name: string, group = ''): StatusDetails {
  const d: StatusDetails = {};
  if (name) d.name = name;
  if (group) d.group = group;
  d.kind = resource;
  return d;
}

/** 422 Invalid: `Service "db" is invalid: spec.ports[0].port: Invalid value: ...`. */
export function invalidStatus(kind: string, group: string, name: string, errs: readonly FieldError[]): Status {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  const message =
    errs.length === 0
      ? `${qualifiedKind} ${goQuote(name)} is invalid`
      : `${qualifiedKind} ${goQuote(name)} is invalid: ${aggregateString(errs)}`;
  const d: StatusDetails = {};
  if (name) d.name = name;
  if (group) d.group = group;
  d.kind = kind;
  d.causes = errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field }));
  return statusError(422, 'Invalid', message, d);
}

export function notFound(resource: string, name: string, group = ''): Status {
  return statusError(404, 'NotFound', `${qualifiedResource(resource, group)} ${goQuote(name)} not found`, details(resource, name, group));
}

export function alreadyExists(resource: string, name: string, group = ''): Status {
  return statusError(409, 'AlreadyExists', `${qualifiedResource(resource, group)} ${goQuote(name)} already exists`, details(resource, name, group));
}

/** 409 Conflict; pass OptimisticLockErrorMsg for a stale resourceVersion. */
export function conflict(resource: string, name: string, msg: string, group = ''): Status {
  return statusError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(resource, group)} ${goQuote(name)}: ${msg}`,
    details(resource, name, group),
  );
}

export function badRequest(msg: string): Status {
  return statusError(400, 'BadRequest', msg);
}

export function unauthorized(msg = 'Unauthorized'): Status {
  return statusError(401, 'Unauthorized', msg);
}

/** 403: `services "x" is forbidden: <reason>`. */
export function forbiddenStatus(resource: string, name: string, reason: string, group = ''): Status {
  const qr = qualifiedResource(resource, group);
  const message = name ? `${qr} ${goQuote(name)} is forbidden: ${reason}` : `${qr} is forbidden: ${reason}`;
  return statusError(403, 'Forbidden', message, details(resource, name, group));
}

/** 405: `create is not supported on resources of kind "endpoints"`. */
export function methodNotAllowed(resource: string, action: string, group = ''): Status {
  const d: StatusDetails = {};
  if (group) d.group = group;
  d.kind = resource;
  return statusError(405, 'MethodNotAllowed', `${action} is not supported on resources of kind ${goQuote(resource)}`, d);
}

export function notAcceptable(accepted: readonly string[]): Status {
  return statusError(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`);
}

/** 410 Gone (a watch from a resourceVersion the server no longer keeps). */
export function gone(msg: string): Status {
  return statusError(410, 'Gone', msg);
}

/** 410 Expired: what the watch cache sends for a compacted resourceVersion. */
export function expired(msg: string): Status {
  return statusError(410, 'Expired', msg);
}

export function tooLarge(msg: string): Status {
  return statusError(413, 'RequestEntityTooLarge', `Request entity too large: ${msg}`);
}

export function unsupportedMediaType(
  accepted: readonly string[] = ['application/json', 'application/yaml'],
): Status {
  return statusError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
  );
}

export function tooManyRequests(msg: string, retryAfterSeconds?: number): Status {
  return statusError(
    429,
    'TooManyRequests',
    msg,
    retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined,
  );
}

export function internalError(msg: string): Status {
  return statusError(500, 'InternalError', `Internal error occurred: ${msg}`, { causes: [{ message: msg }] });
}

export function serviceUnavailable(msg: string): Status {
  return statusError(503, 'ServiceUnavailable', msg);
}

export function timeout(msg: string, retryAfterSeconds?: number): Status {
  return statusError(
    504,
    'Timeout',
    `Timeout: ${msg}`,
    retryAfterSeconds !== undefined ? { retryAfterSeconds } : undefined,
  );
}

/** True for any value shaped like a meta/v1 Status. */
export function isStatus(x: unknown): x is Status {
  return typeof x === 'object' && x !== null && (x as { kind?: unknown }).kind === 'Status' && typeof (x as { code?: unknown }).code === 'number';
}
