// Resource records as plain data. The shapes are those dns-packet encodes, so
// the wire server can hand them over without conversion.

export type Rcode = 'NOERROR' | 'FORMERR' | 'SERVFAIL' | 'NXDOMAIN' | 'NOTIMP' | 'REFUSED';

export const RCODE_NUMBER: Record<Rcode, number> = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
};

/** Query and record type numbers this zone knows by name (RFC 1035, 3596, 2782, 6891). */
export const QTYPE = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
  OPT: 41,
  IXFR: 251,
  AXFR: 252,
  ANY: 255,
} as const;

export const QCLASS = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 } as const;

export interface SrvData {
  priority: number;
  weight: number;
  port: number;
  target: string;
}

export interface SoaData {
  mname: string;
  rname: string;
  serial: number;
  refresh: number;
  retry: number;
  expire: number;
  minimum: number;
}

interface RRBase {
  /** Owner name without the trailing dot, spelled as the question spelled it where it is the question. */
  name: string;
  ttl: number;
  class: 'IN';
}

export type RR =
  | (RRBase & { type: 'A' | 'AAAA' | 'CNAME' | 'PTR' | 'NS'; data: string })
  | (RRBase & { type: 'SRV'; data: SrvData })
  | (RRBase & { type: 'TXT'; data: string[] })
  | (RRBase & { type: 'SOA'; data: SoaData });

export type RRType = RR['type'];

/** The result of a lookup in the cluster zone: what the server puts in the reply. */
export interface Answer {
  rcode: Rcode;
  /** AA bit: set on every answer the zone gives from its own data. */
  authoritative: boolean;
  answers: RR[];
  authority: RR[];
  additional: RR[];
  /** False when the name is not ours to answer (the server forwards or refuses it). */
  inZone: boolean;
}

export function addressRR(name: string, ip: string, ttl: number): RR {
  return { name, type: ip.includes(':') ? 'AAAA' : 'A', ttl, class: 'IN', data: ip };
}
