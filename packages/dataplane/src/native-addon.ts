import { createRequire } from 'node:module';

/** The native TCP engine (native/tcp_engine.c), as its N-API functions. */
export interface TcpEngineAddon {
  init(
    pick: (id: number, clientAddress?: string, clientPort?: number, localAddress?: string, localPort?: number) => PickResult,
    retry: (id: number, failed: number, tried: number[], code: string, clientAddress?: string) => PickResult,
    event: (id: number, kind: 'closed' | 'accept', code: string) => void,
  ): void;
  listen(
    id: number,
    address: string,
    port: number,
    backlog: number,
    connectTimeoutMs: number,
    idleTimeoutMs: number,
    sweepMs: number,
    ringBuffers: number,
  ): NativeHandle | string;
  port(h: NativeHandle): number;
  target(h: NativeHandle, id: number, address: string | undefined, port: number, live: boolean): void;
  configure(h: NativeHandle, wantAddresses: boolean): void;
  drain(h: NativeHandle, ids: Int32Array | null, upToSerial: number): void;
  stop(h: NativeHandle): void;
  counters(h: NativeHandle, out: Float64Array): void;
  /**
   * '' when listeners can use io_uring, else why not (an errno code). The engine sets its io_uring up, with
   * `ringBuffers` receive buffers, the first time this or listen() asks for it (ringBuffers > 0).
   */
  ioUring(ringBuffers: number): string;
}

/** A target id; or with a PROXY protocol header to send first; -1 refuses the client. */
export type PickResult = number | [number, Buffer];

declare const handle: unique symbol;
export type NativeHandle = { readonly [handle]: true };

/** The addon, or why it did not load (not built: no compiler, or not Linux). Loaded once. */
function load(): { addon: TcpEngineAddon } | { error: string } {
  try {
    const req = createRequire(import.meta.url);
    return { addon: req('../build/Release/tcp_engine.node') as TcpEngineAddon };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

export const nativeAddon = load();
