// ApiError: a failed API call as a value carrying the meta/v1 Status the server sent (or one built from the HTTP code).
import type { Status, StatusReason } from '@knet/api';

/** Reasons Kubernetes uses for a bare HTTP code when the body is not a Status (client-go NewGenericServerResponse). */
const reasonByCode: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export class ApiError extends Error {
  readonly code: number;
  readonly reason: string;
  readonly status: Status;

  constructor(status: Status) {
    super(status.message || `the server responded with ${status.code} ${status.reason || 'Unknown'}`);
    this.name = 'ApiError';
    this.status = status;
    this.code = status.code;
    this.reason = status.reason ?? '';
  }
}

export function isStatus(v: unknown): v is Status {
  return typeof v === 'object' && v !== null && (v as { kind?: unknown }).kind === 'Status';
}

/** A Status for an HTTP code whose body is not a Status (a proxy's text page, an empty body). */
export function statusForCode(code: number, message?: string): Status {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: message || `the server responded with HTTP ${code}`,
    reason: reasonByCode[code] ?? (code >= 500 ? 'InternalError' : ''),
    code,
  };
}

/** The error for a non-2xx response: the body's Status when it is one, else one built from the code. */
export function apiErrorFromResponse(code: number, body: string): ApiError {
  let parsed: unknown;
  try {
    parsed = body ? JSON.parse(body) : undefined;
  } catch {
    parsed = undefined;
  }
  if (isStatus(parsed)) {
    return new ApiError({ ...parsed, code: typeof parsed.code === 'number' && parsed.code ? parsed.code : code });
  }
  return new ApiError(statusForCode(code, body.trim().slice(0, 500) || undefined));
}

function isApiErrorWith(err: unknown, code: number, reasons?: string[]): boolean {
  if (!(err instanceof ApiError)) return false;
  return err.code === code || (reasons !== undefined && reasons.includes(err.reason));
}

export const isNotFound = (err: unknown): boolean => isApiErrorWith(err, 404, ['NotFound']);
export const isAlreadyExists = (err: unknown): boolean => err instanceof ApiError && err.reason === 'AlreadyExists';
export const isConflict = (err: unknown): boolean => err instanceof ApiError && err.reason === 'Conflict';
export const isInvalid = (err: unknown): boolean => isApiErrorWith(err, 422, ['Invalid']);
/** 410: the resourceVersion asked for is older than the server keeps; relist. */
export const isGone = (err: unknown): boolean => isApiErrorWith(err, 410, ['Gone', 'Expired']);
/**
 * 504 Timeout with cause ResourceVersionTooLarge: the server has not reached the resourceVersion asked for
 * (e.g. it restarted with less history). client-go relists on this, as on 410.
 */
export const isTooLargeResourceVersion = (err: unknown): boolean =>
  err instanceof ApiError && err.reason === 'Timeout' && (err.status.details?.causes ?? []).some((c) => c.reason === 'ResourceVersionTooLarge');

/** The resourceVersion a watch or list started from is unusable: relist from scratch. */
export const needsRelist = (err: unknown): boolean => isGone(err) || isTooLargeResourceVersion(err);
