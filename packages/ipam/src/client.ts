// The client the apiserver uses to talk to the ipam server over gRPC.
import * as grpc from './grpc.js';
import { CallBatcher } from './call-batcher.js';
import { IpamError, isIpamErrorCode } from './errors.js';
import { type AllocateClusterIPMsg, CODE_KEY, type IpamMethods, type MethodName, RANGE_KEY, ipamServiceDefinition } from './proto.js';
import { type Allocation, type AllocationKind, type Ranges, isAllocationKind } from './types.js';

export interface IpamClientOptions {
  /** Default: insecure (plaintext), fine on 127.0.0.1. */
  credentials?: grpc.ChannelCredentials;
  /** Per-call deadline; an unreachable server fails with 'Unavailable' within it. Default 5000. */
  deadlineMs?: number;
}

export class IpamClient {
  private readonly client: grpc.Client;
  private readonly deadlineMs: number;
  /** Concurrent ClusterIP allocations travel together as one AllocateClusterIPs call. */
  private readonly clusterIPs = new CallBatcher<AllocateClusterIPMsg, string>((reqs) => this.allocateClusterIPs(reqs));
  /** Set once a server answered that it has no AllocateClusterIPs (an older ipam): one call each. */
  private noBatchRPC = false;

  constructor(
    readonly address: string,
    opts: IpamClientOptions = {},
  ) {
    this.client = new grpc.Client(address, opts.credentials ?? grpc.credentials.createInsecure(), {
      // ipam restarts in about a second; do not back off for minutes after it comes back.
      'grpc.initial_reconnect_backoff_ms': 100,
      'grpc.max_reconnect_backoff_ms': 1000,
      // Connections of its own: with grpc-js's shared pool, a new client to an address whose earlier server
      // died (ipam restarted on the same port) took over the old connection's backoff and failed at once.
      'grpc.use_local_subchannel_pool': 1,
    });
    this.deadlineMs = opts.deadlineMs ?? 5000;
  }

  async ranges(): Promise<Ranges> {
    const r = await this.call('GetRanges', {});
    return { serviceCIDRs: r.serviceCidrs, nodePortRange: r.nodePortRange, loadBalancerCIDRs: r.loadBalancerCidrs };
  }

  async allocateClusterIP(req: { owner: string; family: 'IPv4' | 'IPv6'; ip?: string }): Promise<string> {
    const msg = { owner: req.owner, family: req.family, ip: req.ip ?? '' };
    if (this.noBatchRPC) return (await this.call('AllocateClusterIP', msg)).ip;
    return this.clusterIPs.call(msg);
  }

  private async allocateClusterIPs(reqs: AllocateClusterIPMsg[]): Promise<(string | Error)[]> {
    if (!this.noBatchRPC) {
      try {
        const { results } = await this.unary('AllocateClusterIPs', { requests: reqs });
        return results.map((r) =>
          r.errorCode === '' ? r.ip : new IpamError(isIpamErrorCode(r.errorCode) ? r.errorCode : 'Internal', r.errorMessage, r.errorRange || undefined),
        );
      } catch (err) {
        if ((err as grpc.ServiceError).code !== grpc.status.UNIMPLEMENTED) throw this.toIpamError(err as grpc.ServiceError);
        this.noBatchRPC = true;
      }
    }
    return Promise.all(reqs.map((r) => this.call('AllocateClusterIP', r).then((res) => res.ip, (err: Error) => err)));
  }

  /** Releasing a free IP is not an error. */
  async releaseClusterIP(ip: string): Promise<void> {
    await this.call('ReleaseClusterIP', { ip });
  }

  async allocateNodePort(req: { owner: string; port?: number }): Promise<number> {
    const port = req.port ?? 0;
    // uint32 on the wire: reject what it cannot carry here rather than let it wrap.
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      throw new IpamError('InvalidArgument', `invalid port ${JSON.stringify(req.port)}: must be 1-65535`);
    }
    return (await this.call('AllocateNodePort', { owner: req.owner, port })).port;
  }

  async releaseNodePort(port: number): Promise<void> {
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new IpamError('InvalidArgument', `invalid port ${JSON.stringify(port)}: must be 1-65535`);
    }
    await this.call('ReleaseNodePort', { port });
  }

  async allocateLoadBalancerIP(req: { owner: string; ip?: string }): Promise<string> {
    return (await this.call('AllocateLoadBalancerIP', { owner: req.owner, ip: req.ip ?? '' })).ip;
  }

  async releaseLoadBalancerIP(ip: string): Promise<void> {
    await this.call('ReleaseLoadBalancerIP', { ip });
  }

  async list(kind?: AllocationKind): Promise<Allocation[]> {
    const r = await this.call('List', { kind: kind ?? '' });
    return r.allocations.map((m) => ({
      kind: isAllocationKind(m.kind) ? m.kind : 'ClusterIP',
      value: m.value,
      owner: m.owner,
      ...(m.family === 'IPv4' || m.family === 'IPv6' ? { family: m.family } : {}),
      allocatedAt: m.allocatedAt,
    }));
  }

  close(): void {
    this.client.close();
  }

  private call<M extends MethodName>(method: M, req: IpamMethods[M][0]): Promise<IpamMethods[M][1]> {
    return this.unary(method, req).catch((err: grpc.ServiceError) => {
      throw this.toIpamError(err);
    });
  }

  /** Rejects with grpc-js's ServiceError. */
  private unary<M extends MethodName>(method: M, req: IpamMethods[M][0]): Promise<IpamMethods[M][1]> {
    const def = ipamServiceDefinition()[method]!;
    return new Promise((resolve, reject) => {
      this.client.makeUnaryRequest(
        def.path,
        def.requestSerialize,
        def.responseDeserialize,
        req,
        { deadline: Date.now() + this.deadlineMs },
        (err: grpc.ServiceError | null, res?: unknown) => {
          if (err) reject(err);
          else resolve(res as IpamMethods[M][1]);
        },
      );
    });
  }

  private toIpamError(err: grpc.ServiceError): IpamError {
    const code = String(err.metadata?.get(CODE_KEY)[0] ?? '');
    const range = err.metadata?.get(RANGE_KEY)[0];
    if (isIpamErrorCode(code)) return new IpamError(code, err.details, range === undefined ? undefined : String(range));
    switch (err.code) {
      case grpc.status.UNAVAILABLE:
      case grpc.status.DEADLINE_EXCEEDED:
      case grpc.status.CANCELLED:
        return new IpamError('Unavailable', `ipam server at ${this.address} is unavailable: ${err.details.replace(/[.\s]*Resolution note:\s*$/, '')}`);
      case grpc.status.INVALID_ARGUMENT:
        return new IpamError('InvalidArgument', err.details);
      default:
        return new IpamError('Internal', `ipam call failed: ${err.details || err.message}`);
    }
  }
}
