export { Dataplane } from './dataplane.js';
export type {
  ApplyError,
  ApplyResult,
  Backend,
  DataplaneLogger,
  DataplaneOptions,
  Protocol,
  ServiceEntry,
  ServiceStats,
  TcpEngine,
} from './types.js';
export { BackendPool, eligibleBackends, targetKey, type Target } from './backend-pool.js';
export { AffinityTable } from './affinity.js';
export { proxyHeaderV1, proxyHeaderV2, PROXY_V2_SIGNATURE, type ProxyAddresses } from './proxy-protocol.js';
export { describeBindError } from './bind-error.js';
export { validateEntry } from './validate.js';
