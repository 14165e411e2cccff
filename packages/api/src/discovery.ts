// discovery.k8s.io/v1 EndpointSlice.
import type { KubeObject } from './meta.js';
import type { ObjectReference, Protocol } from './core.js';

export type AddressType = 'IPv4' | 'IPv6' | 'FQDN';

export interface EndpointConditions {
  ready?: boolean;
  serving?: boolean;
  terminating?: boolean;
}

export interface Endpoint {
  addresses: string[];
  conditions?: EndpointConditions;
  hostname?: string;
  targetRef?: ObjectReference;
  nodeName?: string;
  zone?: string;
  hints?: { forZones?: { name: string }[]; forNodes?: { name: string }[] };
}

export interface EndpointSlicePort {
  name?: string;
  protocol?: Protocol;
  port?: number;
  appProtocol?: string;
}

export interface EndpointSlice extends KubeObject {
  apiVersion?: 'discovery.k8s.io/v1';
  kind?: 'EndpointSlice';
  addressType: AddressType;
  endpoints: Endpoint[];
  ports?: EndpointSlicePort[];
}

/** Well-known labels and values on EndpointSlices. */
export const LabelServiceName = 'kubernetes.io/service-name';
export const LabelManagedBy = 'endpointslice.kubernetes.io/managed-by';
export const ManagedByController = 'endpointslice-controller.k8s.io';
export const ManagedByMirroring = 'endpointslicemirroring-controller.k8s.io';
export const MaxEndpointsPerSlice = 100;
