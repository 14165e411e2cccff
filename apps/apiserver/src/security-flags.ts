// The security flags' rules, pure and unit-tested: which transport, authenticators, authorizers
// and ipam credentials a set of flags asks for, or a clear error for combinations that are unsafe
// or cannot work.

export interface SecurityFlags {
  listenHost: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  tokenAuthFile?: string;
  /** undefined: not given. */
  anonymousAuth?: boolean;
  insecurePlainHttp?: boolean;
  authorizationMode: string;
  authorizationPolicyFile?: string;
  ipamCaFile?: string;
  ipamClientCertFile?: string;
  ipamClientKeyFile?: string;
}

export type AuthorizerName = 'AlwaysAllow' | 'AlwaysDeny' | 'ABAC' | 'Pod';

export interface SecurityPlan {
  tls?: { certFile: string; keyFile: string; clientCaFile?: string };
  /** false: no authenticator at all, every request is system:unsecured (system:masters). */
  authenticate: boolean;
  tokenFile?: string;
  anonymous: boolean;
  authorizers: AuthorizerName[];
  policyFile?: string;
  ipamTls?: { caFile: string; certFile: string; keyFile: string };
}

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h) || h === '::ffff:127.0.0.1';
}

const MODES: AuthorizerName[] = ['AlwaysAllow', 'AlwaysDeny', 'ABAC', 'Pod'];

export function parseBool(v: string | boolean | undefined, flag: string): boolean | undefined {
  if (v === undefined || typeof v === 'boolean') return v;
  if (/^(true|1)$/i.test(v)) return true;
  if (/^(false|0)$/i.test(v)) return false;
  throw new Error(`${flag} must be true or false, got ${JSON.stringify(v)}`);
}

export function planSecurity(f: SecurityFlags): SecurityPlan {
  if (Boolean(f.tlsCertFile) !== Boolean(f.tlsPrivateKeyFile)) throw new Error('--tls-cert-file and --tls-private-key-file go together');
  const tls = f.tlsCertFile ? { certFile: f.tlsCertFile, keyFile: f.tlsPrivateKeyFile!, ...(f.clientCaFile ? { clientCaFile: f.clientCaFile } : {}) } : undefined;
  if (tls && f.insecurePlainHttp) throw new Error('--insecure-plain-http contradicts --tls-cert-file: choose one');
  if (!tls) {
    if (f.clientCaFile) throw new Error('--client-ca-file needs HTTPS: pass --tls-cert-file and --tls-private-key-file too');
    if (!isLoopback(f.listenHost)) {
      throw new Error(`refusing to serve plain HTTP on ${f.listenHost}, which is not a loopback address: pass --tls-cert-file and --tls-private-key-file, or listen on 127.0.0.1 / ::1`);
    }
  }
  const authenticate = Boolean(f.tokenAuthFile || f.clientCaFile);
  if (!authenticate && f.anonymousAuth === false) throw new Error('--anonymous-auth=false with no authenticator (--token-auth-file, --client-ca-file) would refuse every request');
  const anonymous = authenticate ? f.anonymousAuth === true : f.anonymousAuth === true;

  const modes = f.authorizationMode.split(',').map((m) => m.trim()).filter(Boolean);
  if (modes.length === 0) throw new Error('--authorization-mode needs at least one mode');
  for (const m of modes) {
    if (m === 'RBAC' || m === 'Node' || m === 'Webhook') {
      throw new Error(`--authorization-mode ${m} is not supported by knet; use ABAC with --authorization-policy-file (Kubernetes accepts the same file) and Pod for pod identities`);
    }
    if (!(MODES as string[]).includes(m)) throw new Error(`unknown --authorization-mode ${JSON.stringify(m)}: one or more of ${MODES.join(', ')}, comma-separated`);
  }
  if (new Set(modes).size !== modes.length) throw new Error(`--authorization-mode lists a mode twice: ${f.authorizationMode}`);
  if (modes.includes('ABAC') !== Boolean(f.authorizationPolicyFile)) {
    throw new Error(modes.includes('ABAC') ? '--authorization-mode ABAC needs --authorization-policy-file' : '--authorization-policy-file is only used with --authorization-mode ABAC');
  }
  if (!authenticate && !anonymous && modes.some((m) => m !== 'AlwaysAllow')) {
    throw new Error(`--authorization-mode ${f.authorizationMode} needs authenticated users: pass --token-auth-file and/or --client-ca-file`);
  }

  const ipamGiven = [f.ipamCaFile, f.ipamClientCertFile, f.ipamClientKeyFile].filter(Boolean).length;
  if (ipamGiven !== 0 && ipamGiven !== 3) throw new Error('--ipam-ca-file, --ipam-client-cert-file and --ipam-client-key-file go together');
  return {
    ...(tls ? { tls } : {}),
    authenticate,
    ...(f.tokenAuthFile ? { tokenFile: f.tokenAuthFile } : {}),
    anonymous,
    authorizers: modes as AuthorizerName[],
    ...(f.authorizationPolicyFile ? { policyFile: f.authorizationPolicyFile } : {}),
    ...(ipamGiven === 3 ? { ipamTls: { caFile: f.ipamCaFile!, certFile: f.ipamClientCertFile!, keyFile: f.ipamClientKeyFile! } } : {}),
  };
}
