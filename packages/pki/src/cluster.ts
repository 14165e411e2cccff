// ensureClusterCredentials: everything a TLS-by-default knet cluster needs under <dir>/pki,
// created on first call and reused afterwards (missing identities added, a serving certificate
// re-issued when its SANs changed, it expires within 30 days, or another CA signed it).
import { chmod, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { formatPolicyFile } from './abac.js';
import { createCA, issueClientCert, issueServingCert, type CertKeyPair } from './certs.js';
import { canonicalIP, leafFacts, type LeafFacts } from './leaf-facts.js';
import { readIfExists, withLock, writePrivate } from './files.js';
import { KNET_USERS, knetPolicies, type Identity } from './identities.js';
import { formatTokenFile, generateToken, parseTokenFile, type TokenEntry } from './tokens.js';

export interface ClusterCredentialOptions {
  /** Extra IP SANs of the apiserver's serving certificate (e.g. the `kubernetes` Service's ClusterIP). */
  apiserverIPs: string[];
  apiserverDNSNames: string[];
  /** Identities that get a bearer token in tokens.csv (existing ones keep theirs). */
  identities: Identity[];
  /** Extra SANs for the ipam serving certificate (127.0.0.1, ::1 and localhost are always in). */
  ipamIPs?: string[];
  ipamDNSNames?: string[];
  /** Default "knet-ca". */
  caName?: string;
}

export interface ClusterCredentials {
  /** <dir>/pki */
  pkiDir: string;
  caFile: string;
  caKeyFile: string;
  /** The CA certificate, PEM (for kubeconfigs' certificate-authority-data). */
  caPem: string;
  apiserverCertFile: string;
  apiserverKeyFile: string;
  ipamServerCertFile: string;
  ipamServerKeyFile: string;
  ipamClientCertFile: string;
  ipamClientKeyFile: string;
  /** The controller's client certificate towards ipam (LoadBalancer IPs). */
  controllerIpamCertFile: string;
  controllerIpamKeyFile: string;
  tokenFile: string;
  policyFile: string;
  /** The ipam identity's token alone (for ipam's --token-file), when an identity named "ipam" is asked for. */
  ipamTokenFile?: string;
  /** Identity name → bearer token, for every identity in tokens.csv that has a knet name. */
  tokens: Record<string, string>;
}

/** The names Kubernetes puts in the apiserver certificate, plus loopback. */
export const APISERVER_DNS_NAMES = ['localhost', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc', 'kubernetes.default.svc.cluster.local'];
export const LOOPBACK_IPS = ['127.0.0.1'];
const RENEW_BEFORE_MS = 30 * 86_400_000;

const uniq = (xs: string[]): string[] => [...new Set(xs)];
const sameSet = (a: string[], b: string[]): boolean => a.length === b.length && [...a].sort().join('\n') === [...b].sort().join('\n');

async function loadPair(certFile: string, keyFile: string): Promise<CertKeyPair | undefined> {
  const [cert, key] = await Promise.all([readIfExists(certFile), readIfExists(keyFile)]);
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new Error(`${cert === undefined ? certFile : keyFile} is missing while ${cert === undefined ? keyFile : certFile} exists: restore it, or remove both to have them re-created`);
  }
  return { cert, key };
}

async function savePair(certFile: string, keyFile: string, pair: CertKeyPair): Promise<void> {
  await writePrivate(keyFile, pair.key);
  await writePrivate(certFile, pair.cert);
}

/** Reuses a leaf certificate only when the CA signed it, it lives > 30 more days and `fits` holds. */
async function ensureLeaf(ca: CertKeyPair, certFile: string, keyFile: string, fits: (c: LeafFacts) => boolean,
  issue: () => Promise<CertKeyPair>): Promise<void> {
  const existing = await loadPair(certFile, keyFile);
  if (existing) {
    let ok = false;
    try {
      const facts = leafFacts(existing.cert, ca.cert);
      ok = fits(facts) && facts.notAfter.getTime() - Date.now() > RENEW_BEFORE_MS && facts.signedByCA;
    } catch { /* unreadable: re-issue */ }
    if (ok) return;
  }
  await savePair(certFile, keyFile, await issue());
}

function identityTokenName(e: TokenEntry, identities: Identity[]): string | undefined {
  return identities.find((i) => i.user === e.user)?.name;
}

/** Keeps every existing line (hand-added users too), appends missing identities, fixes changed groups. */
async function upsertTokens(tokenFile: string, identities: Identity[]): Promise<Record<string, string>> {
  const text = await readIfExists(tokenFile);
  const entries = text === undefined ? [] : parseTokenFile(text);
  let changed = text === undefined;
  for (const id of identities) {
    const e = entries.find((x) => x.user === id.user);
    if (!e) {
      entries.push({ token: generateToken(), user: id.user, uid: id.uid ?? id.user, groups: id.groups });
      changed = true;
    } else if (!sameSet(e.groups, id.groups)) {
      e.groups = [...id.groups];
      changed = true;
    }
  }
  if (changed) await writePrivate(tokenFile, formatTokenFile(entries));
  const tokens: Record<string, string> = {};
  for (const e of entries) {
    const name = identityTokenName(e, identities);
    if (name) tokens[name] = e.token;
  }
  return tokens;
}

function checkIdentities(identities: Identity[]): void {
  for (const i of identities) {
    if (!i.user || /[\r\n]/.test(i.user) || i.groups.some((g) => g.includes(',') || /[\r\n]/.test(g))) {
      throw new Error(`identity ${JSON.stringify(i.name)}: user must be non-empty and groups cannot contain commas or line breaks`);
    }
  }
}

/**
 * Adds identities to an existing cluster's `<dir>/pki/tokens.csv` (what `knet run` needs for a pod)
 * without touching certificates; returns their tokens. The apiserver picks them up without a restart.
 */
export async function ensureIdentities(dir: string, identities: Identity[]): Promise<Record<string, string>> {
  checkIdentities(identities);
  const pkiDir = join(dir, 'pki');
  if ((await readIfExists(join(pkiDir, 'ca.crt'))) === undefined) throw new Error(`${pkiDir} has no cluster credentials: run ensureClusterCredentials (knet up) first`);
  return withLock(join(pkiDir, '.lock'), () => upsertTokens(join(pkiDir, 'tokens.csv'), identities));
}

export async function ensureClusterCredentials(dir: string, opts: ClusterCredentialOptions): Promise<ClusterCredentials> {
  const pkiDir = join(dir, 'pki');
  await mkdir(pkiDir, { recursive: true, mode: 0o700 });
  await chmod(pkiDir, 0o700);
  const f = (n: string): string => join(pkiDir, n);
  const paths = {
    caFile: f('ca.crt'), caKeyFile: f('ca.key'),
    apiserverCertFile: f('apiserver.crt'), apiserverKeyFile: f('apiserver.key'),
    ipamServerCertFile: f('ipam-server.crt'), ipamServerKeyFile: f('ipam-server.key'),
    ipamClientCertFile: f('ipam-client.crt'), ipamClientKeyFile: f('ipam-client.key'),
    controllerIpamCertFile: f('controller-ipam-client.crt'), controllerIpamKeyFile: f('controller-ipam-client.key'),
    tokenFile: f('tokens.csv'), policyFile: f('abac-policy.jsonl'),
  };
  checkIdentities(opts.identities);
  return withLock(f('.lock'), async () => {
    let ca = await loadPair(paths.caFile, paths.caKeyFile);
    if (!ca) {
      ca = await createCA(opts.caName ?? 'knet-ca');
      await savePair(paths.caFile, paths.caKeyFile, ca);
    }
    const caPair = ca;

    const apiIPs = uniq([...LOOPBACK_IPS, ...opts.apiserverIPs]);
    const apiDNS = uniq([...APISERVER_DNS_NAMES, ...opts.apiserverDNSNames]);
    const ipamIPs = uniq(['127.0.0.1', '::1', ...(opts.ipamIPs ?? [])]);
    const ipamDNS = uniq(['localhost', ...(opts.ipamDNSNames ?? [])]);
    // Independent files: signed concurrently (WebCrypto runs on the thread pool), at first start on the cluster's critical path.
    const [tokens] = await Promise.all([
      upsertTokens(paths.tokenFile, opts.identities),
      ensureLeaf(caPair, paths.apiserverCertFile, paths.apiserverKeyFile,
        (c) => sameSet(c.ips, apiIPs.map(canonicalIP)) && sameSet(c.dnsNames, apiDNS),
        () => issueServingCert(caPair, { cn: KNET_USERS.apiserver, dnsNames: apiDNS, ips: apiIPs })),
      ensureLeaf(caPair, paths.ipamServerCertFile, paths.ipamServerKeyFile,
        (c) => sameSet(c.ips, ipamIPs.map(canonicalIP)) && sameSet(c.dnsNames, ipamDNS),
        () => issueServingCert(caPair, { cn: 'knet-ipam', dnsNames: ipamDNS, ips: ipamIPs })),
      ensureLeaf(caPair, paths.ipamClientCertFile, paths.ipamClientKeyFile,
        (c) => c.commonName === KNET_USERS.apiserver,
        () => issueClientCert(caPair, { cn: KNET_USERS.apiserver })),
      ensureLeaf(caPair, paths.controllerIpamCertFile, paths.controllerIpamKeyFile,
        (c) => c.commonName === KNET_USERS.controller,
        () => issueClientCert(caPair, { cn: KNET_USERS.controller })),
    ]);

    let ipamTokenFile: string | undefined;
    if (tokens['ipam']) {
      ipamTokenFile = f('ipam.token');
      if ((await readIfExists(ipamTokenFile))?.trim() !== tokens['ipam']) await writePrivate(ipamTokenFile, `${tokens['ipam']}\n`);
    }

    // the policy is written once: an administrator may edit it afterwards (README: adding a user)
    if ((await readIfExists(paths.policyFile)) === undefined) await writePrivate(paths.policyFile, formatPolicyFile(knetPolicies()));

    return { pkiDir, ...paths, caPem: caPair.cert, tokens, ...(ipamTokenFile ? { ipamTokenFile } : {}) };
  });
}

/** Flags for the controller's ipam client (mTLS, as the apiserver's). */
export function controllerIpamTlsFlags(c: ClusterCredentials): string[] {
  return ['--ipam-ca-file', c.caFile, '--ipam-client-cert-file', c.controllerIpamCertFile, '--ipam-client-key-file', c.controllerIpamKeyFile];
}

/** Flags for the apiserver process that use these credentials (TLS, tokens, ABAC + pod rule, ipam mTLS). */
export function apiserverTlsFlags(c: ClusterCredentials): string[] {
  return [
    '--tls-cert-file', c.apiserverCertFile, '--tls-private-key-file', c.apiserverKeyFile,
    '--client-ca-file', c.caFile, '--token-auth-file', c.tokenFile,
    '--authorization-mode', 'Pod,ABAC', '--authorization-policy-file', c.policyFile,
    '--ipam-ca-file', c.caFile, '--ipam-client-cert-file', c.ipamClientCertFile, '--ipam-client-key-file', c.ipamClientKeyFile,
  ];
}

/**
 * Flags for the ipam process: mTLS accepting only the apiserver's client certificate (ClusterIPs,
 * NodePorts) and the controller's (LoadBalancer IPs); `--ca-file`/`--token-file` for its repair loop.
 */
export function ipamTlsFlags(c: ClusterCredentials): string[] {
  const flags = ['--tls-cert-file', c.ipamServerCertFile, '--tls-private-key-file', c.ipamServerKeyFile, '--client-ca-file', c.caFile,
    '--allowed-client-names', `${KNET_USERS.apiserver},${KNET_USERS.controller}`, '--ca-file', c.caFile];
  return c.ipamTokenFile ? [...flags, '--token-file', c.ipamTokenFile] : flags;
}
