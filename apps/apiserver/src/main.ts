#!/usr/bin/env node
// knet apiserver: flags, process lifecycle and wiring of store + ipam into the HTTP server.
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { Command } from 'commander';
import pino from 'pino';
import { fsyncModes, Store, type FsyncMode } from '@knet/store';
// The client subpath: the index would also load ipam's server and its repair loop's HTTP client.
import { IpamClient, ipamClientTlsCredentials } from '@knet/ipam/client';
import { abacAuthorizer, alwaysAllow, alwaysDeny, podAuthorizer, readPolicyFile, type Authorizer } from '@knet/pki';
import { requestAuthenticator, TokenFile } from './authentication.js';
import { parseCIDRList, parseDuration, parseHostPort } from './flags.js';
import { ApiMetrics } from './metrics.js';
import { parseBool, planSecurity, type SecurityFlags, type SecurityPlan } from './security-flags.js';
import { ApiServer, type ApiServerOptions } from './server.js';

/** Commander's view of the flags: the security ones as SecurityFlags has them, --anonymous-auth still text. */
interface Flags extends Omit<SecurityFlags, 'listenHost' | 'anonymousAuth'> {
  listen: string;
  dataDir: string;
  ipam: string;
  serviceClusterIpRange?: string;
  advertiseAddress?: string;
  logLevel: string;
  watchBookmarkInterval: string;
  watchWindow: string;
  fsync: FsyncMode;
  ipamTimeout: string;
  watchBufferEvents: string;
  reconcileInterval: string;
  anonymousAuth?: string | boolean;
  maxRequestsInflight: string;
  maxMutatingRequestsInflight: string;
  maxWatchesPerUser: string;
  requestTimeout: string;
}

function nonNegativeInt(v: string, flag: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n)) throw new Error(`${flag} must be a non-negative integer (0: unlimited), got ${JSON.stringify(v)}`);
  return n;
}

function readFlagFile(path: string, flag: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read ${flag} ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
}

/** Loads what the plan names; every problem is reported as a flag error before anything listens. */
async function loadSecurity(plan: SecurityPlan, onTokenFileError: (err: unknown) => void): Promise<Pick<ApiServerOptions, 'tls' | 'authenticator' | 'authorizers'>> {
  const tls = plan.tls
    ? {
      cert: readFlagFile(plan.tls.certFile, '--tls-cert-file'),
      key: readFlagFile(plan.tls.keyFile, '--tls-private-key-file'),
      ...(plan.tls.clientCaFile ? { clientCA: readFlagFile(plan.tls.clientCaFile, '--client-ca-file') } : {}),
    }
    : undefined;
  let tokens: TokenFile | undefined;
  if (plan.tokenFile) {
    try {
      tokens = await TokenFile.open(plan.tokenFile, onTokenFileError);
    } catch (err) {
      throw new Error(`--token-auth-file: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  const authorizers: Authorizer[] = [];
  for (const m of plan.authorizers) {
    if (m === 'AlwaysAllow') authorizers.push(alwaysAllow);
    else if (m === 'AlwaysDeny') authorizers.push(alwaysDeny);
    else if (m === 'Pod') authorizers.push(podAuthorizer());
    else {
      try {
        authorizers.push(abacAuthorizer(await readPolicyFile(plan.policyFile!)));
      } catch (err) {
        throw new Error(`--authorization-policy-file: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
  return {
    ...(tls ? { tls } : {}),
    ...(plan.authenticate || plan.anonymous
      ? { authenticator: requestAuthenticator({ ...(tokens ? { tokens } : {}), clientCerts: Boolean(plan.tls?.clientCaFile), anonymous: plan.anonymous }) }
      : {}),
    authorizers,
  };
}

async function main(): Promise<void> {
  const program = new Command()
    .name('knet-apiserver')
    .description('Kubernetes-compatible API server for Services, Endpoints, EndpointSlices, Pods, Nodes and Namespaces')
    .option('--listen <host:port>', 'address to serve the Kubernetes API on (port 0: any free port)', '127.0.0.1:6443')
    .option('--data-dir <dir>', 'directory of the object store', './data/apiserver')
    .option('--ipam <host:port>', 'address of the ipam gRPC server', '127.0.0.1:9091')
    .option('--service-cluster-ip-range <cidrs>', 'service CIDR(s), IPv4 and/or IPv6 comma-separated (default: ask ipam)')
    .option('--advertise-address <ip>', 'the address of this apiserver in the kubernetes Endpoints (default: the listen host)')
    .option('--log-level <level>', 'pino log level', 'info')
    .option('--watch-bookmark-interval <duration>', 'how often watches that allow bookmarks get one', '60s')
    .option('--ipam-timeout <duration>', 'deadline of one ipam call (an unreachable ipam fails at once)', '15s')
    .option('--watch-buffer-events <n>', 'events buffered for a watcher that cannot keep up before it is disconnected', '10000')
    .option('--reconcile-interval <duration>', 'how often the system namespaces and the kubernetes Service are re-ensured', '10s')
    .option('--watch-window <events>', 'events kept for watch resumption; older resourceVersions get 410 Gone', '10000')
    .option('--fsync <mode>', 'when a write is acknowledged: "interval" once the OS has it (it survives kill -9 and crashes of the apiserver, and is on disk within 1 s), "always" once it is on disk (it also survives a power loss; each write waits for the disk, as with etcd)', 'interval')
    .option('--tls-cert-file <file>', 'serve HTTPS with this certificate (PEM); without it plain HTTP, on loopback only')
    .option('--tls-private-key-file <file>', 'the private key of --tls-cert-file (PEM)')
    .option('--client-ca-file <file>', 'authenticate client certificates signed by this CA (CN = user, O = groups)')
    .option('--token-auth-file <file>', 'bearer tokens: token,user,uid,"group1,group2" per line (re-read when it changes)')
    .option('--anonymous-auth [bool]', 'requests without credentials are system:anonymous (default false once an authenticator is configured)')
    .option('--insecure-plain-http', 'serve plain HTTP (allowed on a loopback address only)')
    .option('--authorization-mode <modes>', 'comma-separated: AlwaysAllow, AlwaysDeny, ABAC, Pod (knet\'s pod-identity rule)', 'AlwaysAllow')
    .option('--authorization-policy-file <file>', 'ABAC policy, one JSON Policy per line (with --authorization-mode ABAC)')
    .option('--ipam-ca-file <file>', 'CA that signed the ipam server certificate (mTLS towards ipam)')
    .option('--ipam-client-cert-file <file>', 'client certificate presented to ipam')
    .option('--ipam-client-key-file <file>', 'private key of --ipam-client-cert-file')
    .option('--max-requests-inflight <n>', 'read-only requests served at once before 429 (0: unlimited)', '400')
    .option('--max-mutating-requests-inflight <n>', 'mutating requests served at once before 429 (0: unlimited)', '200')
    .option('--max-watches-per-user <n>', 'open watches per user before 429 (0: unlimited)', '1000')
    .option('--request-timeout <duration>', 'deadline of a non-watch request; past it 504 (0: none)', '60s')
    .showHelpAfterError();
  program.parse(process.argv);
  const flags = program.opts<Flags>();
  if (!(flags.logLevel in pino.levels.values) && flags.logLevel !== 'silent') {
    process.stderr.write(`error: --log-level must be one of ${Object.keys(pino.levels.values).join(', ')}, silent\n`);
    process.exitCode = 2;
    return;
  }
  const log = pino({ level: flags.logLevel, base: { component: 'apiserver' } }, pino.destination({ sync: true }));

  let listen, cidrs, bookmarkMs, watchWindow, ipamTimeoutMs, watchBuffer, reconcileMs, security, limits, requestTimeoutMs;
  let ipamCredentials;
  try {
    listen = parseHostPort(flags.listen);
    const plan = planSecurity({
      listenHost: listen.host,
      authorizationMode: flags.authorizationMode,
      ...(flags.tlsCertFile ? { tlsCertFile: flags.tlsCertFile } : {}),
      ...(flags.tlsPrivateKeyFile ? { tlsPrivateKeyFile: flags.tlsPrivateKeyFile } : {}),
      ...(flags.clientCaFile ? { clientCaFile: flags.clientCaFile } : {}),
      ...(flags.tokenAuthFile ? { tokenAuthFile: flags.tokenAuthFile } : {}),
      ...(flags.anonymousAuth !== undefined ? { anonymousAuth: parseBool(flags.anonymousAuth, '--anonymous-auth')! } : {}),
      ...(flags.insecurePlainHttp ? { insecurePlainHttp: true } : {}),
      ...(flags.authorizationPolicyFile ? { authorizationPolicyFile: flags.authorizationPolicyFile } : {}),
      ...(flags.ipamCaFile ? { ipamCaFile: flags.ipamCaFile } : {}),
      ...(flags.ipamClientCertFile ? { ipamClientCertFile: flags.ipamClientCertFile } : {}),
      ...(flags.ipamClientKeyFile ? { ipamClientKeyFile: flags.ipamClientKeyFile } : {}),
    });
    security = await loadSecurity(plan, (err) => log.warn({ err: err instanceof Error ? err.message : String(err) }, 'token file unreadable; keeping the tokens loaded before'));
    if (plan.ipamTls) {
      ipamCredentials = ipamClientTlsCredentials({
        ca: readFlagFile(plan.ipamTls.caFile, '--ipam-ca-file'),
        cert: readFlagFile(plan.ipamTls.certFile, '--ipam-client-cert-file'),
        key: readFlagFile(plan.ipamTls.keyFile, '--ipam-client-key-file'),
      });
    }
    limits = {
      maxReadOnly: nonNegativeInt(flags.maxRequestsInflight, '--max-requests-inflight'),
      maxMutating: nonNegativeInt(flags.maxMutatingRequestsInflight, '--max-mutating-requests-inflight'),
      maxWatchesPerUser: nonNegativeInt(flags.maxWatchesPerUser, '--max-watches-per-user'),
    };
    requestTimeoutMs = parseDuration(flags.requestTimeout);
    parseHostPort(flags.ipam);
    cidrs = flags.serviceClusterIpRange ? parseCIDRList(flags.serviceClusterIpRange) : undefined;
    if (flags.advertiseAddress !== undefined && !isIP(flags.advertiseAddress)) {
      throw new Error(`invalid --advertise-address ${JSON.stringify(flags.advertiseAddress)}: must be an IP address`);
    }
    bookmarkMs = parseDuration(flags.watchBookmarkInterval);
    ipamTimeoutMs = parseDuration(flags.ipamTimeout);
    reconcileMs = parseDuration(flags.reconcileInterval);
    watchBuffer = Number(flags.watchBufferEvents);
    if (!Number.isInteger(watchBuffer) || watchBuffer < 1) throw new Error(`--watch-buffer-events must be a positive integer, got ${flags.watchBufferEvents}`);
    if (!fsyncModes.includes(flags.fsync)) throw new Error(`--fsync must be interval or always, got ${JSON.stringify(flags.fsync)}`);
    watchWindow = Number(flags.watchWindow);
    if (!Number.isInteger(watchWindow) || watchWindow < 1) throw new Error(`--watch-window must be a positive integer, got ${flags.watchWindow}`);
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
    return;
  }
  const advertise = flags.advertiseAddress ?? (listen.host === '0.0.0.0' || listen.host === '::' ? '127.0.0.1' : listen.host);

  const metrics = new ApiMetrics(true);
  const store = await Store.open(flags.dataDir, {
    watchWindow,
    fsync: flags.fsync,
    onCommit: (seconds, _writes, waited) => {
      metrics.storeCommits.observe(seconds);
      metrics.storeCommitWaits.observe(waited);
    },
    onSync: (seconds, err) => {
      metrics.storeSyncs.observe(seconds);
      if (err !== undefined) log.error({ err: err instanceof Error ? err.message : String(err) }, 'store: syncing acknowledged writes to disk failed');
    },
  });
  const ipam = new IpamClient(flags.ipam, { deadlineMs: ipamTimeoutMs, ...(ipamCredentials ? { credentials: ipamCredentials } : {}) });
  const server = new ApiServer({
    store, ipam, log, advertiseAddress: advertise, bookmarkIntervalMs: bookmarkMs, maxWatchBufferedEvents: watchBuffer,
    reconcileIntervalMs: reconcileMs, ...security, limits, requestTimeoutMs,
    metrics,
    ...(cidrs ? { serviceCIDRs: cidrs } : {}),
  });
  let url: string;
  try {
    ({ url } = await server.listen(listen.host, listen.port));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const hint = e.code === 'EADDRINUSE' ? `${flags.listen} is in use: stop the other process or pass --listen with another port (0 picks a free one)`
      : e.code === 'EACCES' ? `binding ${flags.listen} needs privileges: use a port >= 1024 or set net.ipv4.ip_unprivileged_port_start=0`
      : e.message;
    log.error({ err: e.message }, `cannot listen: ${hint}`);
    await store.close();
    ipam.close();
    process.exitCode = 1;
    return;
  }
  log.info({ url }, 'ready');

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    void (async () => {
      await server.close();
      ipam.close();
      await store.close();
      log.info('stopped');
    })();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: unknown) => {
  process.stderr.write(`apiserver failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
