// The one error type that crosses the ipam boundary, in-process and over gRPC.

export type IpamErrorCode =
  | 'AlreadyAllocated'
  | 'NotInRange'
  | 'RangeFull'
  | 'FamilyNotConfigured'
  | 'InvalidArgument'
  | 'Unavailable'
  | 'Internal';

export const IPAM_ERROR_CODES: readonly IpamErrorCode[] = [
  'AlreadyAllocated',
  'NotInRange',
  'RangeFull',
  'FamilyNotConfigured',
  'InvalidArgument',
  'Unavailable',
  'Internal',
];

export class IpamError extends Error {
  readonly code: IpamErrorCode;
  /** The range the error is about, e.g. '127.96.0.0/12' or '30000-32767'. */
  readonly range?: string;

  constructor(code: IpamErrorCode, message: string, range?: string) {
    super(message);
    this.name = 'IpamError';
    this.code = code;
    if (range !== undefined) this.range = range;
  }
}

export function isIpamErrorCode(s: string): s is IpamErrorCode {
  return (IPAM_ERROR_CODES as readonly string[]).includes(s);
}

// Kubernetes' own wording (pkg/registry/core/service/ipallocator and portallocator),
// so the apiserver can put these messages into its 422s unchanged.
export const ipAlreadyAllocated = (range: string): IpamError =>
  new IpamError('AlreadyAllocated', 'provided IP is already allocated', range);
export const ipNotInRange = (range: string): IpamError =>
  new IpamError('NotInRange', `provided IP is not in the valid range. The range of valid IPs is ${range}`, range);
export const portAlreadyAllocated = (range: string): IpamError =>
  new IpamError('AlreadyAllocated', 'provided port is already allocated', range);
export const portNotInRange = (range: string): IpamError =>
  new IpamError('NotInRange', `provided port is not in the valid range. The range of valid ports is ${range}`, range);
export const rangeFull = (range: string): IpamError => new IpamError('RangeFull', 'range is full', range);
export const invalidArgument = (message: string): IpamError => new IpamError('InvalidArgument', message);
