export * from './labels.js';
export { semanticEqual } from './equal.js';
export {
  isPodReady,
  isPodTerminal,
  isPodTerminating,
  podIPs,
  shouldPodBeInEndpoints,
  shouldSetHostname,
  findPort,
} from './pod.js';
export { repackSubsets, sortSubsets } from './repack.js';
export { TriggerTimeTracker, formatTriggerTime } from './trigger-time.js';
export {
  desiredEndpoints,
  reconcileEndpoints,
  hasManagedEndpoints,
  selectPods,
  truncateEndpoints,
  type EndpointsOptions,
  type EndpointsWrite,
} from './endpoints.js';
export { type SlicePlan, planIsEmpty, endpointKey } from './slice-util.js';
export {
  desiredEndpointSlices,
  addressTypesForService,
  sliceLabels,
  managedSlicesFor,
  type EndpointSliceOptions,
} from './endpointslice.js';
export { mirrorEndpointSlices, shouldMirror, mirroredSlicesFor, type MirroringOptions } from './mirroring.js';
