/** One endpoint of a service. Conditions follow discovery.k8s.io/v1 EndpointConditions. */
export interface Backend {
  /** IPv4 or IPv6 literal (no host names: the per-connection path never resolves names). */
  address: string;
  port: number;
  ready: boolean;
  serving: boolean;
  terminating: boolean;
  /** The endpoint runs on this node; used when the entry is `localOnly`. */
  nodeLocal?: boolean;
}

export type Protocol = 'TCP' | 'UDP';

/** One listener: (address, port, protocol) and where its traffic goes. */
export interface ServiceEntry {
  /** Stable id, e.g. 'ns/name:port/TCP@127.96.0.5'. */
  key: string;
  address: string;
  /** 0 binds an ephemeral port (see Dataplane.address). */
  port: number;
  protocol: Protocol;
  backends: Backend[];
  /** kube-proxy sessionAffinity: ClientIP. */
  affinity?: { type: 'ClientIP'; timeoutSeconds: number };
  /** PROXY protocol header sent to the backend first. UDP supports 'v2' only (one header per datagram). */
  proxyProtocol?: 'v1' | 'v2';
  /** Only backends with nodeLocal: true (externalTrafficPolicy / internalTrafficPolicy: Local). */
  localOnly?: boolean;
  /** Free-form labels carried into stats(), e.g. the service name. */
  labels?: Record<string, string>;
}

/** The subset of a pino logger the data plane uses. */
export interface DataplaneLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface DataplaneOptions {
  /** Time allowed for one backend connect before trying the next. Default 3000. */
  connectTimeoutMs?: number;
  /** Backends tried per client connection before it is reset. Default 3. */
  maxConnectAttempts?: number;
  /** A TCP connection with no traffic either way for this long is closed. 0 disables. Default 3600000 (1 h). */
  idleTimeoutMs?: number;
  /** After a backend is removed (or its listener), its established connections are closed after this. Default 30000. */
  drainMs?: number;
  /** A UDP flow with no packet either way for this long is forgotten. Default 30000. */
  udpIdleMs?: number;
  /** Flows per UDP listener; when full the oldest flow is evicted. Default 16384. */
  maxUdpFlows?: number;
  /** TCP listen backlog (the kernel caps it at net.core.somaxconn). Default 4096. */
  backlog?: number;
  log?: DataplaneLogger;
  /** Clock for session-affinity expiry, in ms; for tests. Default Date.now. */
  now?: () => number;
  /**
   * Who moves TCP bytes: 'native' (a C addon on Node's own event loop; Linux) or 'js' (node:net, portable).
   * Default: KNET_TCP_ENGINE when set, else 'native' when the addon is built, else 'js'.
   */
  tcpEngine?: TcpEngine;
  /**
   * Native engine: move established connections' bytes through io_uring where the kernel allows it (Linux 6.1+,
   * not blocked by a seccomp filter such as Docker's default one), else through epoll. false: always epoll.
   * Default: false when KNET_IO_URING is '0', else true.
   */
  ioUring?: boolean;
}

export type TcpEngine = 'native' | 'js';

export interface ApplyError {
  key: string;
  /** Short machine-readable cause: 'Invalid', 'EADDRINUSE', 'EACCES', 'EADDRNOTAVAIL', or another errno code. */
  reason: string;
  /** Human-readable, says how to fix it where we know. */
  error: string;
}

export interface ApplyResult {
  /** Keys whose listener was newly bound. */
  opened: string[];
  /** Keys whose listener stayed and whose backends / settings were swapped in place. */
  updated: string[];
  /** Keys whose listener was closed (removed, or re-bound because address/port/protocol changed). */
  closed: string[];
  /** One entry per failure; a failure never stops the other entries. */
  errors: ApplyError[];
}

export interface ServiceStats {
  key: string;
  protocol: Protocol;
  address: string;
  /** The bound port (differs from the entry when it asked for 0). */
  port: number;
  labels: Record<string, string>;
  /** TCP connections accepted / UDP flows created. */
  connections: number;
  /** TCP connections open now / UDP flows alive now. */
  active: number;
  /** Bytes from clients to backends. */
  bytesIn: number;
  /** Bytes from backends to clients. */
  bytesOut: number;
  /** Client connections (or UDP packets) that got no backend: none eligible or every attempt failed. */
  failures: number;
  /** Backend connect attempts that failed (each was retried on the next backend when attempts remained). */
  connectErrors: number;
  /** UDP datagrams from clients forwarded to backends. */
  udpPackets: number;
}
