export { ClusterZone, InvalidObjectError, type ZoneOptions, type Question } from './zone.js';
export { QTYPE, QCLASS, RCODE_NUMBER, type Answer, type RR, type RRType, type Rcode, type SrvData, type SoaData } from './records.js';
export { canonicalIP, reverseName, ipFromReverseName, dashedIP, ipFromDashed } from './ip.js';
export { createDnsServer, type DnsServer, type DnsServerOptions, type ForwardConfig, type ListenAddress, type Logger, type QueryInfo } from './server.js';
export type { EncodedReplyCacheOptions } from './encoded-reply-cache.js';
export { upstreamsFromResolvConf, parseResolvConf } from './resolvconf.js';
export { parseUpstream, InvalidUpstreamError, type Upstream } from './forwarder.js';
export { InvalidCidrError } from './acl.js';
export type { CacheOptions } from './cache.js';
