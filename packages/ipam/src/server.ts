// The ipam gRPC server: an IpamState kept in memory, every change durable in its
// own level DB before the RPC answers, the bitmaps rebuilt from the DB at start.
import * as grpc from './grpc.js';
import { Level } from 'level';
import { type IPFamily } from './cidr.js';
import { GroupCommitter } from './committer.js';
import { IpamError, invalidArgument } from './errors.js';
import { type Logger, silentLogger } from './logger.js';
import {
  CODE_KEY,
  type IpamMethods,
  type MethodName,
  RANGE_KEY,
  type AllocationMsg,
  type AllocateClusterIPResultMsg,
  ipamServiceDefinition,
} from './proto.js';
import { type RepairOptions, planRepair } from './repair.js';
import { IpamState, type RangeUsage, allocationKey } from './state.js';
import { type Allocation, type AllocationKind, type Ranges, type ServiceInUse, isAllocationKind } from './types.js';

export interface IpamServerOptions {
  /** Directory of the level DB holding the allocations. */
  dbPath: string;
  serviceCIDRs: string[];
  nodePortRange: string;
  loadBalancerCIDRs: string[];
  log?: Logger;
  credentials?: grpc.ServerCredentials;
  /**
   * With mTLS credentials: only client certificates with one of these CNs may call (as
   * kube-apiserver's --requestheader-allowed-names); others get PERMISSION_DENIED. Default: any the CA signed.
   */
  allowedClientNames?: string[];
  /** For deterministic tests. */
  random?: () => number;
}

export interface RepairReport {
  released: Allocation[];
  recorded: Allocation[];
  reassigned: { allocation: Allocation; from: string }[];
  pendingLeaks: Allocation[];
  duplicates: { kind: AllocationKind; value: string; owners: string[] }[];
  /** Held by a Service but outside the configured ranges (or not a valid value): left alone. */
  skipped: { kind: AllocationKind; value: string; owner: string; reason: string }[];
}

export interface IpamServer {
  readonly ranges: Ranges;
  /** Opens the DB (first call), binds and serves. Resolves to the bound port. */
  listen(address: string): Promise<number>;
  /** One repair pass against the Services that exist; see repair.ts. */
  repair(inUse: ServiceInUse[], opts?: RepairOptions): Promise<RepairReport>;
  /** Size and use of every range (metrics). */
  usage(): RangeUsage[];
  /** In-process view of the allocations (the same as the List RPC). */
  list(kind?: AllocationKind): Promise<Allocation[]>;
  close(): Promise<void>;
}

type DbOp = { type: 'put'; key: string; value: Allocation } | { type: 'del'; key: string };
type Unary<M extends MethodName> = (req: IpamMethods[M][0]) => Promise<IpamMethods[M][1]>;

const PREFIX = 'alloc/';
/** Most allocations one AllocateClusterIPs call may carry. */
export const MAX_ALLOCATIONS_PER_CALL = 10_000;
const dbKey = (kind: AllocationKind, value: string): string => PREFIX + allocationKey(kind, value);

/** Throws IpamError InvalidArgument synchronously when the ranges are bad. */
export function createIpamServer(opts: IpamServerOptions): IpamServer {
  const log = opts.log ?? silentLogger;
  const newState = (): IpamState =>
    new IpamState({
      serviceCIDRs: opts.serviceCIDRs,
      nodePortRange: opts.nodePortRange,
      loadBalancerCIDRs: opts.loadBalancerCIDRs,
      random: opts.random,
    });
  let state = newState();
  if (typeof opts.dbPath !== 'string' || opts.dbPath === '') throw invalidArgument('dbPath is required');

  const db = new Level<string, Allocation>(opts.dbPath, { valueEncoding: 'json' });
  const syncWrite = { sync: true } as const;
  let opened: Promise<void> | null = null;
  // Set while memory is being rebuilt from disk; mutations wait for it.
  let reloading: Promise<void> | null = null;
  let broken: Error | null = null;
  let closed = false;
  let grpcServer: grpc.Server | null = null;
  let leakCounts = new Map<string, number>();

  const committer = new GroupCommitter<DbOp>(
    // A chained batch: level's array form clones and re-validates every operation first.
    (ops) => ops.reduce((b, op) => (op.type === 'put' ? b.put(op.key, op.value) : b.del(op.key)), db.batch()).write(syncWrite),
    (err) => {
      log.error({ err: String(err) }, 'allocation store write failed; reloading from disk');
      reloading = load()
        .catch((loadErr: unknown) => {
          broken = loadErr instanceof Error ? loadErr : new Error(String(loadErr));
          log.error({ err: String(loadErr) }, 'allocation store unreadable; refusing mutations');
        })
        .finally(() => {
          reloading = null;
        });
    },
  );

  async function load(): Promise<void> {
    const next = newState();
    let outOfRange = 0;
    for await (const [, a] of db.iterator({ gte: PREFIX, lt: PREFIX + '\xff' })) {
      try {
        if (!next.load(a)) {
          outOfRange++;
          log.warn({ kind: a.kind, value: a.value, owner: a.owner }, 'allocation outside the configured ranges');
        }
      } catch (err) {
        log.error({ record: a, err: String(err) }, 'unreadable allocation record skipped');
      }
    }
    state = next;
    log.info({ allocations: state.list().length, outOfRange }, 'allocations loaded');
  }

  function open(): Promise<void> {
    opened ??= (async () => {
      try {
        await db.open();
      } catch (err) {
        const cause = (err as { cause?: unknown }).cause;
        const detail = String(cause ?? err);
        const hint = /lock/i.test(detail) ? ' (is another ipam process using this data directory?)' : '';
        throw new IpamError('Internal', `cannot open allocation database at ${opts.dbPath}: ${detail}${hint}`);
      }
      await load();
    })();
    return opened;
  }

  /** Runs fn against the current state, then waits for its writes to be durable. */
  async function mutate<T>(fn: (s: IpamState) => { result: T; ops: DbOp[] }): Promise<T> {
    await open();
    while (reloading !== null) await reloading;
    if (closed) throw new IpamError('Unavailable', 'ipam server is shutting down');
    if (broken !== null) throw new IpamError('Internal', `allocation store failed: ${broken.message}`);
    const { result, ops } = fn(state);
    try {
      await committer.commit(ops);
    } catch (err) {
      throw new IpamError('Internal', `could not persist allocation: ${String(err)}`);
    }
    return result;
  }

  const put = (a: Allocation): DbOp => ({ type: 'put', key: dbKey(a.kind, a.value), value: a });
  const del = (a: Allocation): DbOp => ({ type: 'del', key: dbKey(a.kind, a.value) });

  function allocated<T>(m: { allocation: Allocation; changed: boolean }, out: T): { result: T; ops: DbOp[] } {
    // debug, as kube-apiserver logs no allocation by default: during a create storm the (synchronous)
    // log writes cost ipam more CPU than the allocations, and a slow log reader stalled it
    if (m.changed) log.debug({ kind: m.allocation.kind, value: m.allocation.value, owner: m.allocation.owner }, 'allocated');
    return { result: out, ops: m.changed ? [put(m.allocation)] : [] };
  }

  function released(kind: AllocationKind, value: string): { result: { released: boolean }; ops: DbOp[] } {
    const a = state.release(kind, value);
    if (a !== null) log.info({ kind, value: a.value, owner: a.owner }, 'released');
    return { result: { released: a !== null }, ops: a === null ? [] : [del(a)] };
  }

  const handlers: { [M in MethodName]: Unary<M> } = {
    GetRanges: async () => ({
      serviceCidrs: state.ranges.serviceCIDRs,
      nodePortRange: state.ranges.nodePortRange,
      loadBalancerCidrs: state.ranges.loadBalancerCIDRs,
    }),
    AllocateClusterIP: (req) =>
      mutate((s) => {
        const m = s.allocateClusterIP({ owner: req.owner, family: req.family as IPFamily, ip: req.ip });
        return allocated(m, { ip: m.allocation.value });
      }),
    AllocateClusterIPs: (req) => {
      if (req.requests.length > MAX_ALLOCATIONS_PER_CALL) {
        return Promise.reject(invalidArgument(`at most ${MAX_ALLOCATIONS_PER_CALL} allocations per call, got ${req.requests.length}`));
      }
      // Each request is applied on its own (as if it came alone, in order); their writes share one sync.
      return mutate((s) => {
        const results: AllocateClusterIPResultMsg[] = [];
        const ops: DbOp[] = [];
        const made: { value: string; owner: string }[] = [];
        for (const r of req.requests) {
          try {
            const m = s.allocateClusterIP({ owner: r.owner, family: r.family as IPFamily, ip: r.ip });
            if (m.changed) {
              ops.push(put(m.allocation));
              made.push({ value: m.allocation.value, owner: m.allocation.owner });
            }
            results.push({ ip: m.allocation.value, errorCode: '', errorMessage: '', errorRange: '' });
          } catch (err) {
            const e = err instanceof IpamError ? err : new IpamError('Internal', err instanceof Error ? err.message : String(err));
            results.push({ ip: '', errorCode: e.code, errorMessage: e.message, errorRange: e.range ?? '' });
          }
        }
        if (made.length > 0) log.debug({ kind: 'ClusterIP', allocations: made }, 'allocated'); // debug: see allocated()
        return { result: { results }, ops };
      });
    },
    ReleaseClusterIP: (req) => mutate(() => released('ClusterIP', req.ip)),
    AllocateNodePort: (req) =>
      mutate((s) => {
        const m = s.allocateNodePort({ owner: req.owner, port: req.port });
        return allocated(m, { port: Number(m.allocation.value) });
      }),
    ReleaseNodePort: (req) => mutate(() => released('NodePort', String(req.port))),
    AllocateLoadBalancerIP: (req) =>
      mutate((s) => {
        const m = s.allocateLoadBalancerIP({ owner: req.owner, ip: req.ip });
        return allocated(m, { ip: m.allocation.value });
      }),
    ReleaseLoadBalancerIP: (req) => mutate(() => released('LoadBalancerIP', req.ip)),
    List: async (req) => {
      if (req.kind !== '' && !isAllocationKind(req.kind)) {
        throw invalidArgument(`unknown allocation kind ${JSON.stringify(req.kind)}: use ClusterIP, NodePort or LoadBalancerIP`);
      }
      await open();
      const kind = req.kind === '' ? undefined : (req.kind as AllocationKind);
      return { allocations: state.list(kind).map(toMsg) };
    },
  };

  async function repair(inUse: ServiceInUse[], ropts: RepairOptions = {}): Promise<RepairReport> {
    return mutate((s) => {
      const plan = planRepair(s.list(), inUse, leakCounts, ropts);
      leakCounts = plan.leakCounts;
      const report: RepairReport = {
        released: [],
        recorded: [],
        reassigned: [],
        pendingLeaks: plan.pendingLeaks,
        duplicates: plan.duplicates,
        skipped: plan.invalid.map((h) => ({ ...h, reason: 'not a valid IP or port' })),
      };
      const ops: DbOp[] = [];
      for (const a of plan.release) {
        const r = s.release(a.kind, a.value);
        if (r !== null) {
          report.released.push(r);
          ops.push(del(r));
        }
      }
      for (const h of plan.record) {
        try {
          const m = s.claim(h.kind, h.value, h.owner);
          report.recorded.push(m.allocation);
          ops.push(put(m.allocation));
        } catch (err) {
          report.skipped.push({ ...h, reason: err instanceof Error ? err.message : String(err) });
        }
      }
      for (const { allocation, owner } of plan.reassign) {
        const a = s.reassign(allocation.kind, allocation.value, owner);
        if (a !== null) {
          report.reassigned.push({ allocation: a, from: allocation.owner });
          ops.push(put(a));
        }
      }
      logRepair(log, report);
      return { result: report, ops };
    });
  }

  return {
    get ranges() {
      return state.ranges;
    },
    async listen(address: string): Promise<number> {
      if (closed) throw new IpamError('Unavailable', 'ipam server is closed');
      if (grpcServer !== null) throw invalidArgument('ipam server is already listening');
      await open();
      const server = new grpc.Server();
      server.addService(ipamServiceDefinition(), grpcHandlers(handlers, log, opts.allowedClientNames));
      grpcServer = server;
      return new Promise<number>((resolve, reject) => {
        server.bindAsync(address, opts.credentials ?? grpc.ServerCredentials.createInsecure(), (err, port) => {
          if (err) {
            grpcServer = null;
            reject(new IpamError('Unavailable', `cannot listen on ${address}: ${err.message}`));
          } else resolve(port);
        });
      });
    },
    repair,
    usage: () => state.usage(),
    async list(kind?: AllocationKind): Promise<Allocation[]> {
      await open();
      return state.list(kind);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const server = grpcServer;
      grpcServer = null;
      if (server !== null) await shutdown(server);
      await committer.drain();
      if (opened !== null) await opened.catch(() => {});
      if (db.status === 'open' || db.status === 'opening') await db.close();
    },
  };
}

function toMsg(a: Allocation): AllocationMsg {
  return { kind: a.kind, value: a.value, owner: a.owner, family: a.family ?? '', allocatedAt: a.allocatedAt };
}

/** Adapts promise handlers to grpc-js callbacks; IpamErrors travel as status + metadata. */
function peerName(call: grpc.ServerUnaryCall<unknown, unknown>): string | undefined {
  const cn = call.getAuthContext().sslPeerCertificate?.subject?.CN;
  return Array.isArray(cn) ? cn[0] : cn;
}

function grpcHandlers(handlers: { [M in MethodName]: Unary<M> }, log: Logger, allowedNames?: string[]): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  const allowed = allowedNames && allowedNames.length > 0 ? new Set(allowedNames) : undefined;
  for (const name of Object.keys(handlers) as MethodName[]) {
    const handler = handlers[name] as (req: unknown) => Promise<unknown>;
    impl[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      if (allowed) {
        const peer = peerName(call);
        if (peer === undefined || !allowed.has(peer)) {
          log.warn({ method: name, peer: peer ?? null }, 'client certificate name not allowed');
          callback({ code: grpc.status.PERMISSION_DENIED, details: `client certificate ${peer === undefined ? 'missing' : `CN=${JSON.stringify(peer)}`} is not allowed to call ipam` }, null);
          return;
        }
      }
      handler(call.request).then(
        (res) => callback(null, res),
        (err: unknown) => {
          const e =
            err instanceof IpamError ? err : new IpamError('Internal', err instanceof Error ? err.message : String(err));
          if (e.code === 'Internal') log.error({ method: name, err: String(err) }, 'rpc failed');
          const metadata = new grpc.Metadata();
          metadata.set(CODE_KEY, e.code);
          if (e.range !== undefined) metadata.set(RANGE_KEY, e.range);
          callback({ code: GRPC_STATUS[e.code], details: e.message, metadata }, null);
        },
      );
    };
  }
  return impl;
}

const GRPC_STATUS: Record<IpamError['code'], grpc.status> = {
  AlreadyAllocated: grpc.status.ALREADY_EXISTS,
  NotInRange: grpc.status.OUT_OF_RANGE,
  RangeFull: grpc.status.RESOURCE_EXHAUSTED,
  FamilyNotConfigured: grpc.status.FAILED_PRECONDITION,
  InvalidArgument: grpc.status.INVALID_ARGUMENT,
  Unavailable: grpc.status.UNAVAILABLE,
  Internal: grpc.status.INTERNAL,
};

/** Graceful shutdown, forced after a short grace so close() never hangs on a stuck client. */
function shutdown(server: grpc.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => server.forceShutdown(), 2000);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

function logRepair(log: Logger, r: RepairReport): void {
  for (const a of r.released) log.info({ kind: a.kind, value: a.value, owner: a.owner }, 'repair: released leaked allocation');
  for (const a of r.recorded) log.info({ kind: a.kind, value: a.value, owner: a.owner }, 'repair: recorded allocation in use');
  for (const x of r.reassigned) {
    log.warn({ kind: x.allocation.kind, value: x.allocation.value, owner: x.allocation.owner, from: x.from }, 'repair: reassigned');
  }
  for (const d of r.duplicates) log.warn({ kind: d.kind, value: d.value, owners: d.owners }, 'repair: allocated to more than one Service');
  for (const s of r.skipped) log.warn({ kind: s.kind, value: s.value, owner: s.owner, reason: s.reason }, 'repair: skipped');
}
