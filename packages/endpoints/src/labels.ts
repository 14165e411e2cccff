// Well-known label and annotation keys the endpoints controllers read and write
// (k8s.io/api/core/v1 and k8s.io/api/discovery/v1 constants).

export const LabelServiceName = 'kubernetes.io/service-name';
export const LabelManagedBy = 'endpointslice.kubernetes.io/managed-by';
export const LabelSkipMirror = 'endpointslice.kubernetes.io/skip-mirror';
/** Set (empty value) on Endpoints and EndpointSlices of Services without a cluster IP. */
export const LabelHeadlessService = 'service.kubernetes.io/headless';

export const ControllerName = 'endpointslice-controller.k8s.io';
export const MirroringControllerName = 'endpointslicemirroring-controller.k8s.io';

export const AnnotationLastChangeTriggerTime = 'endpoints.kubernetes.io/last-change-trigger-time';
export const AnnotationOverCapacity = 'endpoints.kubernetes.io/over-capacity';
export const AnnotationLastApplied = 'kubectl.kubernetes.io/last-applied-configuration';
/** Endpoints used as leader-election locks are never mirrored. */
export const AnnotationLeaderElection = 'control-plane.alpha.kubernetes.io/leader';

export const DefaultMaxEndpointsPerSlice = 100;
/** Endpoints keeps at most this many addresses (kube-controller-manager's maxCapacity). */
export const MaxEndpointsCapacity = 1000;
/** The mirroring controller copies at most this many addresses per subset. */
export const DefaultMirroringMaxEndpointsPerSubset = 1000;

/**
 * A Service selector matches when every key/value pair is present on the labels
 * (labels.Set(selector).AsSelectorPreValidated()). An empty selector matches everything.
 */
export function selectorMatches(selector: Record<string, string>, labels: Record<string, string> | undefined): boolean {
  // for-in, not Object.entries: called per Pod per Service sync, and each entries array fed the GC.
  for (const k in selector) {
    if (Object.hasOwn(selector, k) && labels?.[k] !== selector[k]) return false;
  }
  return true;
}

/** Whether the Service has a usable virtual IP (helper.IsServiceIPSet). */
export function isServiceIPSet(clusterIP: string | undefined): boolean {
  return !!clusterIP && clusterIP !== 'None';
}
