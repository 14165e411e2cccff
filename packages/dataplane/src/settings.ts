import { resolveTcpEngine } from './tcp-engine.js';
import type { DataplaneLogger, DataplaneOptions, TcpEngine } from './types.js';

/** DataplaneOptions with every default filled in. */
export interface Settings {
  connectTimeoutMs: number;
  maxConnectAttempts: number;
  idleTimeoutMs: number;
  drainMs: number;
  udpIdleMs: number;
  maxUdpFlows: number;
  backlog: number;
  log: DataplaneLogger;
  now: () => number;
  tcpEngine: TcpEngine;
  ioUring: boolean;
  /** Receive buffers of the engine's io_uring, shared by its connections: KNET_IO_URING_BUFFERS, else 256. */
  ioUringBuffers: number;
}

const noop = (): void => {};
export const silentLogger: DataplaneLogger = { debug: noop, info: noop, warn: noop, error: noop };

function positive(name: string, v: number | undefined, dflt: number, min: number): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min) {
    throw new RangeError(`DataplaneOptions.${name}: must be a number >= ${min}, got ${String(v)}`);
  }
  return v;
}

function flag(name: string, v: boolean | undefined, dflt: boolean): boolean {
  if (v === undefined) return dflt;
  if (typeof v !== 'boolean') throw new RangeError(`DataplaneOptions.${name}: must be true or false, got ${String(v)}`);
  return v;
}

/** KNET_IO_URING_BUFFERS: a power of two from 1 to 4096 (64 KiB each, touched as used); 256 when unset. */
function ioUringBuffers(value: string | undefined): number {
  if (value === undefined) return 256;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 4096 || (n & (n - 1)) !== 0) {
    throw new RangeError(`KNET_IO_URING_BUFFERS: must be a power of two from 1 to 4096, got ${JSON.stringify(value)}`);
  }
  return n;
}

export function resolveSettings(o: DataplaneOptions = {}): Settings {
  return {
    connectTimeoutMs: positive('connectTimeoutMs', o.connectTimeoutMs, 3000, 1),
    maxConnectAttempts: Math.floor(positive('maxConnectAttempts', o.maxConnectAttempts, 3, 1)),
    idleTimeoutMs: positive('idleTimeoutMs', o.idleTimeoutMs, 3_600_000, 0),
    drainMs: positive('drainMs', o.drainMs, 30_000, 0),
    udpIdleMs: positive('udpIdleMs', o.udpIdleMs, 30_000, 1),
    maxUdpFlows: Math.floor(positive('maxUdpFlows', o.maxUdpFlows, 16_384, 1)),
    backlog: Math.floor(positive('backlog', o.backlog, 4096, 1)),
    log: o.log ?? silentLogger,
    now: o.now ?? Date.now,
    tcpEngine: resolveTcpEngine(o.tcpEngine),
    ioUring: flag('ioUring', o.ioUring, process.env['KNET_IO_URING'] !== '0'),
    ioUringBuffers: ioUringBuffers(process.env['KNET_IO_URING_BUFFERS']),
  };
}

/** Counters kept per listener; live per-connection bytes are added when stats() is read. */
export class Counters {
  connections = 0;
  bytesIn = 0;
  bytesOut = 0;
  failures = 0;
  connectErrors = 0;
  udpPackets = 0;
}
