// X.509 certificates for the cluster: a CA, serving certificates and client certificates, as PEM.
// Built with @peculiar/x509 on Node's WebCrypto (ECDSA P-256), never hand-written ASN.1.
import { isIP } from 'node:net';
import { randomBytes, webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';

type X509Module = typeof X509;
let loading: Promise<X509Module> | undefined;

/**
 * @peculiar/x509 with its ASN.1 schemas takes ~200 ms of CPU and ~4 MiB of heap to load: loaded on
 * first use, so processes that import this package for its authorizers or tokens (the apiserver,
 * `knet run`) never pay for it.
 */
function loadX509(): Promise<X509Module> {
  loading ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
    return x509;
  })();
  return loading;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;

/** A certificate and its private key, both PEM (the key as PKCS#8 "PRIVATE KEY"). */
export interface CertKeyPair {
  cert: string;
  key: string;
}

export interface CertOptions {
  /** Validity in days; default 365 (a CA: 3650), as kubeadm issues them. */
  validityDays?: number;
}

export interface ServingCertOptions extends CertOptions {
  cn: string;
  dnsNames?: string[];
  ips?: string[];
}

export interface ClientCertOptions extends CertOptions {
  /** The user name (Kubernetes: the CN). */
  cn: string;
  /** The groups (Kubernetes: the O attributes). */
  organizations?: string[];
}

/** Positive 128-bit serial (RFC 5280 wants ≤ 20 octets and positive). */
function serial(): string {
  const b = randomBytes(16);
  b[0] = b[0]! & 0x7f | 0x01;
  return b.toString('hex');
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
}

async function keyPem(x509: X509Module, key: webcrypto.CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(x509: X509Module, pem: string): Promise<webcrypto.CryptoKey> {
  let der: ArrayBuffer;
  try {
    der = x509.PemConverter.decodeFirst(pem);
  } catch {
    throw new Error('not a PEM private key');
  }
  return webcrypto.subtle.importKey('pkcs8', der, ALG, true, ['sign']);
}

/** Distinguished names are written as "CN=x, O=y"; escape what that syntax reserves. */
function rdn(type: string, value: string): string {
  return `${type}=${value.replace(/([,+"\\<>;=#])/g, '\\$1')}`;
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // a minute of slack for clocks that differ a little between processes
  const now = Date.now();
  return { notBefore: new Date(now - 60_000), notAfter: new Date(now + days * DAY_MS) };
}

/** A self-signed CA (ECDSA P-256, 10 years by default). */
export async function createCA(cn: string, opts: CertOptions = {}): Promise<CertKeyPair> {
  const x509 = await loadX509();
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: rdn('CN', cn),
    ...validity(opts.validityDays ?? 3650),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(x509, keys.privateKey) };
}

async function issue(ca: CertKeyPair, subject: string, days: number, extensions: (x509: X509Module) => X509.Extension[]): Promise<CertKeyPair> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(ca.cert);
  const caKey = await importKey(x509, ca.key);
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject,
    issuer: caCert.subject,
    ...validity(days),
    publicKey: keys.publicKey,
    signingKey: caKey,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      await x509.AuthorityKeyIdentifierExtension.create(caCert),
      ...extensions(x509),
    ],
  });
  return { cert: cert.toString('pem'), key: await keyPem(x509, keys.privateKey) };
}

/** A TLS server certificate for the given DNS names and IP addresses (both go in the SAN). */
export async function issueServingCert(ca: CertKeyPair, opts: ServingCertOptions): Promise<CertKeyPair> {
  const ips = opts.ips ?? [];
  for (const ip of ips) if (!isIP(ip)) throw new Error(`invalid IP address ${JSON.stringify(ip)} for a certificate's subjectAltName`);
  const names = [...(opts.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })), ...ips.map((value) => ({ type: 'ip' as const, value }))];
  if (names.length === 0) throw new Error('a serving certificate needs at least one DNS name or IP address');
  return issue(ca, rdn('CN', opts.cn), opts.validityDays ?? 365, (x509) => [
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(names),
  ]);
}

/** A TLS client certificate: Kubernetes reads the user from CN and the groups from O. */
export async function issueClientCert(ca: CertKeyPair, opts: ClientCertOptions): Promise<CertKeyPair> {
  const subject = [rdn('CN', opts.cn), ...(opts.organizations ?? []).map((o) => rdn('O', o))].join(', ');
  return issue(ca, subject, opts.validityDays ?? 365, (x509) => [new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth])]);
}

/** What a certificate says about itself, for reuse decisions and tests. */
export interface CertInfo {
  subject: string;
  issuer: string;
  commonName: string;
  organizations: string[];
  dnsNames: string[];
  ips: string[];
  notBefore: Date;
  notAfter: Date;
  isCA: boolean;
}

export async function describeCert(pem: string): Promise<CertInfo> {
  const x509 = await loadX509();
  const c = new x509.X509Certificate(pem);
  const san = c.getExtension(x509.SubjectAlternativeNameExtension);
  const items = san?.names.items ?? [];
  const bc = c.getExtension(x509.BasicConstraintsExtension);
  return {
    subject: c.subject,
    issuer: c.issuer,
    commonName: c.subjectName.getField('CN')[0] ?? '',
    organizations: c.subjectName.getField('O'),
    dnsNames: items.filter((n) => n.type === 'dns').map((n) => n.value),
    ips: items.filter((n) => n.type === 'ip').map((n) => n.value),
    notBefore: c.notBefore,
    notAfter: c.notAfter,
    isCA: bc?.ca ?? false,
  };
}

/** True when `pem` carries a valid signature by `caPem`'s key. */
export async function signedBy(pem: string, caPem: string): Promise<boolean> {
  const x509 = await loadX509();
  try {
    const c = new x509.X509Certificate(pem);
    const ca = new x509.X509Certificate(caPem);
    return await c.verify({ publicKey: ca.publicKey, signatureOnly: true });
  } catch {
    return false;
  }
}
