// Loads proto/ipam.proto at runtime, relative to this module (works from src/ and dist/).
import { fileURLToPath } from 'node:url';
import * as grpc from './grpc.js';

export const PROTO_PATH = fileURLToPath(new URL('../proto/ipam.proto', import.meta.url));
export const SERVICE_NAME = 'knet.ipam.v1.Ipam';

/** Trailing metadata keys carrying an IpamError across gRPC. */
export const CODE_KEY = 'knet-ipam-code';
export const RANGE_KEY = 'knet-ipam-range';

// Wire messages, camelCased by proto-loader; defaults: true fills unset fields.
export interface RangesMsg {
  serviceCidrs: string[];
  nodePortRange: string;
  loadBalancerCidrs: string[];
}
export interface AllocateClusterIPMsg {
  owner: string;
  family: string;
  ip: string;
}
export interface AllocateClusterIPsMsg {
  requests: AllocateClusterIPMsg[];
}
export interface AllocateClusterIPResultMsg {
  ip: string;
  errorCode: string;
  errorMessage: string;
  errorRange: string;
}
export interface AllocateClusterIPsResponseMsg {
  results: AllocateClusterIPResultMsg[];
}
export interface AllocateLoadBalancerIPMsg {
  owner: string;
  ip: string;
}
export interface IPMsg {
  ip: string;
}
export interface AllocateNodePortMsg {
  owner: string;
  port: number;
}
export interface PortMsg {
  port: number;
}
export interface ReleaseResponseMsg {
  released: boolean;
}
export interface ListRequestMsg {
  kind: string;
}
export interface AllocationMsg {
  kind: string;
  value: string;
  owner: string;
  family: string;
  allocatedAt: string;
}
export interface ListResponseMsg {
  allocations: AllocationMsg[];
}
export type Empty = Record<string, never>;

/** Request and response message of each RPC. */
export interface IpamMethods {
  GetRanges: [Empty, RangesMsg];
  AllocateClusterIP: [AllocateClusterIPMsg, IPMsg];
  AllocateClusterIPs: [AllocateClusterIPsMsg, AllocateClusterIPsResponseMsg];
  ReleaseClusterIP: [IPMsg, ReleaseResponseMsg];
  AllocateNodePort: [AllocateNodePortMsg, PortMsg];
  ReleaseNodePort: [PortMsg, ReleaseResponseMsg];
  AllocateLoadBalancerIP: [AllocateLoadBalancerIPMsg, IPMsg];
  ReleaseLoadBalancerIP: [IPMsg, ReleaseResponseMsg];
  List: [ListRequestMsg, ListResponseMsg];
}
export type MethodName = keyof IpamMethods;

let cached: grpc.ServiceDefinition | undefined;

export function ipamServiceDefinition(): grpc.ServiceDefinition {
  if (cached === undefined) {
    const def = grpc.protoLoader.loadSync(PROTO_PATH, { keepCase: false, defaults: true, arrays: true, longs: Number });
    cached = def[SERVICE_NAME] as grpc.ServiceDefinition;
  }
  return cached;
}
