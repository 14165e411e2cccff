// The shapes the apiserver needs from @knet/store and @knet/ipam, stated structurally so the
// REST layer can be wired to the real classes (main.ts, testing.ts) and read without them.
import type { KubeObject } from '@knet/api';

export interface StoreListResult { items: KubeObject[]; resourceVersion: string; continue?: string; remainingItemCount?: number }
export interface StoreEvent { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: KubeObject; resourceVersion: string }

export interface ObjectStore {
  create(resource: string, obj: KubeObject): Promise<KubeObject>;
  get(resource: string, namespace: string, name: string): Promise<KubeObject>;
  list(resource: string, opts?: { namespace?: string; filter?: (o: KubeObject) => boolean; limit?: number; continue?: string }): Promise<StoreListResult>;
  update(resource: string, obj: KubeObject): Promise<KubeObject>;
  delete(resource: string, namespace: string, name: string, precondition?: { uid?: string; resourceVersion?: string }): Promise<KubeObject>;
  watch(resource: string, opts: { namespace?: string; resourceVersion?: string; filter?: (o: KubeObject) => boolean },
    onEvent: (e: StoreEvent) => void): { close(): void };
  resourceVersion(): string;
}

export interface IpamRanges { serviceCIDRs: string[]; nodePortRange: string; loadBalancerCIDRs: string[] }

export interface Ipam {
  ranges(): Promise<IpamRanges>;
  allocateClusterIP(req: { owner: string; family: 'IPv4' | 'IPv6'; ip?: string }): Promise<string>;
  releaseClusterIP(ip: string): Promise<void>;
  allocateNodePort(req: { owner: string; port?: number }): Promise<number>;
  releaseNodePort(port: number): Promise<void>;
}

/** An IpamError from @knet/ipam, recognised by its `code`. */
export function ipamErrorCode(err: unknown): string | undefined {
  if (err instanceof Error && 'code' in err && typeof (err as { code: unknown }).code === 'string') return (err as { code: string }).code;
  return undefined;
}

export function storeErrorReason(err: unknown): string | undefined {
  if (err instanceof Error && 'reason' in err && typeof (err as { reason: unknown }).reason === 'string') return (err as { reason: string }).reason;
  return undefined;
}
