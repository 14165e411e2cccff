// Loads the UDP fast path's addon (native/knet_dns.c, built by node-gyp into build/Release), or says why not.
// Linux only: elsewhere, or when the build failed, the server keeps the portable node:dgram path.
import { createRequire } from 'node:module';

/** An opaque handle the addon owns (a napi external). */
export type NativeHandle = { readonly __native: unique symbol };

export interface NativeAddon {
  /** Most slots (distinct reply kinds) hit counters are kept for, and the per-entry cost the byte budget counts. */
  MAX_SLOTS: number;
  ENTRY_OVERHEAD: number;
  /** stats: 1 + MAX_SLOTS × (3 + bounds) zeroes C counts hits into: [0] hits since JS last read, then per slot [hits, summed ns, hits per bucket..., past the last bound]. */
  tableNew(maxBytes: number, maxQueryBytes: number, maxReplyBytes: number, durationBoundsNs: Float64Array, stats: Float64Array): NativeHandle;
  tableSetSerial(table: NativeHandle, serial: number): void;
  /** -1, or the reply's length | slot << 16 with the reply (carrying msg's ID) written to out. */
  tableLookup(table: NativeHandle, variant: number, msg: Buffer, serial: number, out: Buffer): number;
  tableStore(table: NativeHandle, variant: number, msg: Buffer, serial: number, reply: Buffer, slot: number): void;
  tableSize(table: NativeHandle): [entries: number, bytes: number];
  /**
   * Throws an Error with `code` (EADDRINUSE, EACCES, ...) when the address cannot be bound. A datagram the table
   * cannot answer is copied into inbox (≥ 65536 octets) for onMiss, which may return the reply to send.
   */
  udpOpen(table: NativeHandle, host: string, port: number, acl: Uint8Array | null, inbox: Buffer, onMiss: (length: number, address: string, port: number) => unknown): NativeHandle;
  udpPort(udp: NativeHandle): number;
  udpSend(udp: NativeHandle, reply: Buffer, address: string, port: number): void;
  udpClose(udp: NativeHandle): void;
}

let addon: NativeAddon | null | undefined;
let why = '';

/** The addon, or null (see nativeUnavailable()) on other platforms or when it was not built. */
export function nativeAddon(): NativeAddon | null {
  if (addon !== undefined) return addon;
  addon = null;
  if (process.platform !== 'linux') {
    why = `the native UDP path is Linux-only (this is ${process.platform})`;
    return addon;
  }
  try {
    const loaded = createRequire(import.meta.url)('../build/Release/knet_dns.node') as Partial<NativeAddon>;
    if (typeof loaded.udpOpen !== 'function') why = 'the addon was built without the Linux fast path';
    else addon = loaded as NativeAddon;
  } catch (err) {
    why = `cannot load packages/dns/build/Release/knet_dns.node: ${(err as Error).message}`;
  }
  return addon;
}

/** Why nativeAddon() is null ('' when it loaded). */
export function nativeUnavailable(): string {
  nativeAddon();
  return why;
}
