// What decides whether a certificate is reused, read with Node's own X.509 parser (OpenSSL): a
// restart with valid certificates never loads @peculiar/x509 (~200 ms of CPU before anything starts).
import { X509Certificate } from 'node:crypto';
import { isIPv6 } from 'node:net';

export interface LeafFacts {
  commonName: string;
  dnsNames: string[];
  /** Canonical text (canonicalIP): OpenSSL writes ::1 as 0:0:0:0:0:0:0:1. */
  ips: string[];
  notAfter: Date;
  /** Issued by, and carrying a valid signature of, the CA. */
  signedByCA: boolean;
}

/** One spelling per address, so that SAN lists compare as sets. */
export function canonicalIP(ip: string): string {
  return isIPv6(ip) ? new URL(`http://[${ip}]`).hostname.slice(1, -1) : ip;
}

/** Throws on a certificate that does not parse. Unusual names read differently here only cause a re-issue. */
export function leafFacts(certPem: string, caPem: string): LeafFacts {
  const cert = new X509Certificate(certPem);
  const ca = new X509Certificate(caPem);
  const sans = (cert.subjectAltName ?? '').split(', ').filter(Boolean);
  return {
    commonName: cert.subject.split('\n').find((l) => l.startsWith('CN='))?.slice(3) ?? '',
    dnsNames: sans.filter((s) => s.startsWith('DNS:')).map((s) => s.slice(4)),
    ips: sans.filter((s) => s.startsWith('IP Address:')).map((s) => canonicalIP(s.slice('IP Address:'.length))),
    notAfter: new Date(cert.validTo),
    signedByCA: cert.checkIssued(ca) && cert.verify(ca.publicKey),
  };
}
