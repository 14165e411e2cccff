// Server-side Tables (meta.k8s.io/v1) with the columns and cells kube-apiserver's
// printers produce (pkg/printers/internalversion/printers.go), always in wide form
// as the server renders them; kubectl hides priority-1 columns unless `-o wide`.
import type { KubeObject, Table, TableColumnDefinition, TableRow } from './meta.js';
import type { Endpoints, Namespace, Node, Pod, Service, ContainerStatus } from './core.js';
import type { EndpointSlice } from './discovery.js';
import { age } from './duration.js';
import { formatLabels } from './selectors.js';

export type IncludeObject = 'None' | 'Object' | 'Metadata';

export interface TableOptions {
  now?: Date;
  /** What each row carries in `object`; Kubernetes' default is Metadata. */
  includeObject?: IncludeObject;
}

const nameDesc =
  'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names';
const createdDesc =
  'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata';

const col = (name: string, description: string, priority = 0, type = 'string', format = ''): TableColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});
const nameCol = col('Name', nameDesc, 0, 'string', 'name');
const ageCol = col('Age', createdDesc);

export const columnDefinitions: Record<string, TableColumnDefinition[]> = {
  services: [
    nameCol,
    col('Type', 'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer.'),
    col('Cluster-IP', 'clusterIP is the IP address of the service and is usually assigned randomly.'),
    col('External-IP', 'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.'),
    col('Port(s)', 'The list of ports that are exposed by this service.'),
    ageCol,
    col('Selector', 'Route service traffic to pods with label keys and values matching this selector.', 1),
  ],
  endpoints: [
    nameCol,
    col('Endpoints', 'The set of all endpoints is the union of all subsets.'),
    ageCol,
  ],
  endpointslices: [
    nameCol,
    col('AddressType', 'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type.'),
    col('Ports', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    col('Endpoints', 'endpoints is a list of unique endpoints in this slice.'),
    ageCol,
  ],
  pods: [
    nameCol,
    col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
    col('Status', 'The aggregate status of the containers in this pod.'),
    col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
    ageCol,
    col('IP', 'podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
    col('Node', 'NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName.', 1),
    col('Nominated Node', 'nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods.', 1),
    col('Readiness Gates', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
  ],
  nodes: [
    nameCol,
    col('Status', 'The status of the node'),
    col('Roles', 'The roles of the node'),
    ageCol,
    col('Version', 'Kubelet Version reported by the node.'),
    col('Internal-IP', 'List of addresses reachable to the node.', 1),
    col('External-IP', 'List of addresses reachable to the node.', 1),
    col('OS-Image', 'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).', 1),
    col('Kernel-Version', "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).", 1),
    col('Container-Runtime', 'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).', 1),
  ],
  namespaces: [nameCol, col('Status', 'The status of the namespace'), ageCol],
};

export const defaultColumnDefinitions: TableColumnDefinition[] = [nameCol, col('Created At', createdDesc, 0, 'date')];

type CellsFn = (obj: KubeObject, now: Date) => { cells: unknown[]; conditions?: unknown[] };

const printers: Record<string, CellsFn> = {
  services: (o, now) => serviceCells(o as Service, now),
  endpoints: (o, now) => ({ cells: [o.metadata?.name ?? '', formatEndpoints(o as Endpoints), age(o.metadata?.creationTimestamp, now)] }),
  endpointslices: (o, now) => {
    const s = o as EndpointSlice;
    return {
      cells: [s.metadata?.name ?? '', s.addressType ?? '', formatSlicePorts(s), formatSliceEndpoints(s), age(s.metadata?.creationTimestamp, now)],
    };
  },
  pods: (o, now) => podCells(o as Pod, now),
  nodes: (o, now) => ({ cells: nodeCells(o as Node, now) }),
  namespaces: (o, now) => {
    const ns = o as Namespace;
    return { cells: [ns.metadata?.name ?? '', ns.status?.phase ?? '', age(ns.metadata?.creationTimestamp, now)] };
  },
};

/** Renders objects of one resource (by plural) as a Table. */
export function tableFor(plural: string, objs: readonly KubeObject[], opts: TableOptions = {}): Table {
  const now = opts.now ?? new Date();
  const include = opts.includeObject ?? 'Metadata';
  const printer = printers[plural];
  const rows: TableRow[] = objs.map((o) => {
    const { cells, conditions } = printer ? printer(o, now) : { cells: defaultCells(o) };
    const row: TableRow = { cells };
    if (conditions) row.conditions = conditions;
    if (include === 'Object') row.object = o;
    else if (include === 'Metadata') {
      row.object = { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata ?? {} };
    }
    return row;
  });
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: {},
    columnDefinitions: columnDefinitions[plural] ?? defaultColumnDefinitions,
    rows,
  };
}

function defaultCells(o: KubeObject): unknown[] {
  const ts = o.metadata?.creationTimestamp;
  const t = ts ? Date.parse(ts) : NaN;
  // RFC3339 without fractional seconds, as Go's time.RFC3339 prints.
  return [o.metadata?.name ?? '', Number.isNaN(t) ? null : new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z')];
}

// ---- services --------------------------------------------------------------

function serviceCells(svc: Service, now: Date): { cells: unknown[] } {
  const spec = svc.spec ?? {};
  const clusterIP = spec.clusterIPs?.[0] ?? '<none>';
  const ports = makePortString(spec.ports ?? []) || '<none>';
  return {
    cells: [svc.metadata?.name ?? '', spec.type ?? '', clusterIP || '<none>', serviceExternalIP(svc), ports, age(svc.metadata?.creationTimestamp, now), formatLabels(spec.selector)],
  };
}

export function makePortString(ports: readonly NonNullable<Service['spec']['ports']>[number][]): string {
  return ports.map((p) => (p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${p.protocol ?? ''}` : `${p.port}/${p.protocol ?? ''}`)).join(',');
}

/** kubectl's EXTERNAL-IP: externalIPs, LB ingress, `<pending>`, the externalName, or `<none>`. */
export function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const ext = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return ext.length > 0 ? ext.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = [...new Set((svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip || i.hostname || '').filter((x) => x))].sort();
      if (ext.length > 0) return [...lb, ...ext].join(',');
      return lb.length > 0 ? lb.join(',') : '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

// ---- endpoints / slices ------------------------------------------------------

const joinHostPort = (ip: string | undefined, port: number | undefined): string =>
  (ip ?? '').includes(':') ? `[${ip}]:${port}` : `${ip ?? ''}:${port}`;

/** "a:p,b:p,c:p + 3 more..." over ready addresses, `<none>` when there are none. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    const ports = ss.ports ?? [];
    if (ports.length === 0) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(a.ip ?? '');
      }
      continue;
    }
    for (const p of ports) {
      count += addrs.length;
      for (const a of addrs) {
        if (list.length === max) {
          more = true;
          break;
        }
        list.push(joinHostPort(a.ip, p.port));
      }
    }
  }
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret || '<none>';
}

function listWithMore(list: string[], more: boolean, count: number, max: number): string {
  const ret = list.join(',');
  if (more) return `${ret} + ${count - max} more...`;
  return ret || '<unset>';
}

function formatSlicePorts(s: EndpointSlice): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const p of s.ports ?? []) {
    if (list.length < max) list.push(p.port != null ? String(p.port) : p.name != null ? p.name : '*');
    else more = true;
    count++;
  }
  return listWithMore(list, more, count, max);
}

function formatSliceEndpoints(s: EndpointSlice): string {
  const max = 3;
  const list: string[] = [];
  let more = false;
  let count = 0;
  for (const e of s.endpoints ?? []) {
    for (const a of e.addresses ?? []) {
      if (list.length < max) list.push(a);
      else more = true;
      count++;
    }
  }
  return listWithMore(list, more, count, max);
}

// ---- pods ------------------------------------------------------------------

const podSuccessConditions = [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }];
const podFailedConditions = [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }];

function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (!b) return a;
  if (!a) return b;
  return Date.parse(b) > Date.parse(a) ? b : a;
}

function podCells(pod: Pod, now: Date): { cells: unknown[]; conditions?: unknown[] } {
  const spec = pod.spec ?? { containers: [] };
  const status = pod.status ?? {};
  const totalContainers = (spec.containers ?? []).length;
  let restarts = 0;
  let readyContainers = 0;
  let lastRestart: string | undefined;
  let reason: string = status.phase ?? '';
  if (status.reason) reason = status.reason;
  for (const c of status.conditions ?? []) if (c.type === 'PodScheduled' && c.reason === 'SchedulingGated') reason = 'SchedulingGated';

  let conditions: unknown[] | undefined;
  if (status.phase === 'Succeeded') conditions = podSuccessConditions;
  else if (status.phase === 'Failed') conditions = podFailedConditions;

  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const c = inits[i]!;
    restarts += c.restartCount ?? 0;
    lastRestart = laterOf(lastRestart, c.lastState?.terminated?.finishedAt);
    const term = c.state?.terminated;
    if (term && term.exitCode === 0) continue;
    if (term) {
      reason = term.reason ? `Init:${term.reason}` : term.signal ? `Init:Signal:${term.signal}` : `Init:ExitCode:${term.exitCode}`;
    } else if (c.state?.waiting?.reason && c.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${c.state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${(spec.initContainers ?? []).length}`;
    }
    initializing = true;
    break;
  }

  const initializedTrue = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initializedTrue) {
    restarts = 0;
    lastRestart = undefined;
    let hasRunning = false;
    const statuses: ContainerStatus[] = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const c = statuses[i]!;
      restarts += c.restartCount ?? 0;
      lastRestart = laterOf(lastRestart, c.lastState?.terminated?.finishedAt);
      const st = c.state ?? {};
      if (st.waiting?.reason) reason = st.waiting.reason;
      else if (st.terminated?.reason) reason = st.terminated.reason;
      else if (st.terminated) reason = st.terminated.signal ? `Signal:${st.terminated.signal}` : `ExitCode:${st.terminated.exitCode}`;
      else if (c.ready && st.running) {
        hasRunning = true;
        readyContainers++;
      }
    }
    if (reason === 'Completed' && hasRunning) {
      const ready = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
      reason = ready ? 'Running' : 'NotReady';
    }
  }

  if (pod.metadata?.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata?.deletionTimestamp && status.phase !== 'Succeeded' && status.phase !== 'Failed') reason = 'Terminating';

  const restartsStr = restarts !== 0 && lastRestart ? `${restarts} (${age(lastRestart, now)} ago)` : String(restarts);
  const podIP = status.podIPs?.[0]?.ip || status.podIP || '<none>';
  const gates = spec.readinessGates ?? [];
  let readinessGates = '<none>';
  if (gates.length > 0) {
    let trueConditions = 0;
    for (const g of gates) {
      const c = (status.conditions ?? []).find((x) => x.type === g.conditionType);
      if (c?.status === 'True') trueConditions++;
    }
    readinessGates = `${trueConditions}/${gates.length}`;
  }
  const cells = [
    pod.metadata?.name ?? '',
    `${readyContainers}/${totalContainers}`,
    reason,
    restartsStr,
    age(pod.metadata?.creationTimestamp, now),
    podIP,
    spec.nodeName || '<none>',
    status.nominatedNodeName || '<none>',
    readinessGates,
  ];
  return conditions ? { cells, conditions } : { cells };
}

// ---- nodes -------------------------------------------------------------------

function nodeCells(node: Node, now: Date): unknown[] {
  const status: string[] = [];
  const ready = (node.status?.conditions ?? []).find((c) => c.type === 'Ready');
  if (ready) status.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  if (status.length === 0) status.push('Unknown');
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata?.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  const info = node.status?.nodeInfo ?? {};
  const addr = (t: string): string => node.status?.addresses?.find((a) => a.type === t)?.address ?? '<none>';
  return [
    node.metadata?.name ?? '',
    status.join(','),
    [...roles].sort().join(',') || '<none>',
    age(node.metadata?.creationTimestamp, now),
    info['kubeletVersion'] ?? '',
    addr('InternalIP'),
    addr('ExternalIP'),
    info['osImage'] || '<unknown>',
    info['kernelVersion'] || '<unknown>',
    info['containerRuntimeVersion'] || '<unknown>',
  ];
}
