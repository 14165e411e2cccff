// Message-level helpers around dns-packet: header peeking, error replies that need
// no decoding, and encoding with truncation to the client's payload size.
import { dnsPacket } from './dns-packet.js';
import type { Packet } from 'dns-packet';
import { RCODE_NUMBER, type Rcode } from './records.js';

export const FLAG_QR = 0x8000;
export const FLAG_AA = 0x0400;
export const FLAG_TC = 0x0200;
export const FLAG_RD = 0x0100;
export const FLAG_RA = 0x0080;
export const FLAG_CD = 0x0010;
export const EDNS_DO = 0x8000;
/** Without OPT a UDP reply must fit in 512 octets (RFC 1035 4.2.1). */
export const MIN_UDP_PAYLOAD = 512;
/** The largest UDP payload we will send whatever the client offers (IPv4 datagram limit). */
export const MAX_UDP_PAYLOAD = 65507;
/** What we advertise in our own OPT: the DNS flag day 2020 value, safe from fragmentation. */
export const OUR_UDP_PAYLOAD = 1232;
export const BADVERS = 16;

export interface Header {
  id: number;
  flags: number;
  opcode: number;
  qr: boolean;
  rd: boolean;
  qdcount: number;
}

/** Reads the fixed 12-octet header, or null when the message is too short to have one. */
export function peekHeader(msg: Buffer): Header | null {
  if (msg.length < 12) return null;
  const flags = msg.readUInt16BE(2);
  return { id: msg.readUInt16BE(0), flags, opcode: (flags >> 11) & 0xf, qr: (flags & FLAG_QR) !== 0, rd: (flags & FLAG_RD) !== 0, qdcount: msg.readUInt16BE(4) };
}

/** A header-only reply (no sections): for messages we will not or cannot decode. */
export function headerOnlyReply(h: Header, rcode: Rcode, extraFlags = 0): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt16BE(h.id, 0);
  b.writeUInt16BE(FLAG_QR | (h.opcode << 11) | (h.flags & FLAG_RD) | extraFlags | RCODE_NUMBER[rcode], 2);
  return b;
}

export interface EncodeLimits {
  /** The most octets the reply may take (UDP payload size, or 65535 on TCP). */
  maxSize: number;
}

/**
 * Encodes a response; when it does not fit, drops every record but the OPT and sets
 * TC so the client retries over TCP (RFC 2181 9, RFC 7766).
 */
export function encodeReply(p: Packet & { flags: number }, limits: EncodeLimits): { buf: Buffer; truncated: boolean } {
  const full = dnsPacket.encode(p);
  if (full.length <= limits.maxSize) return { buf: full, truncated: false };
  const opt = (p.additionals ?? []).filter((a) => a.type === 'OPT');
  const cut: Packet = { ...p, flags: p.flags | FLAG_TC, answers: [], authorities: [], additionals: opt };
  let buf = dnsPacket.encode(cut);
  if (buf.length > limits.maxSize) buf = dnsPacket.encode({ ...cut, additionals: [] });
  return { buf, truncated: true };
}

/** The UDP payload size a client can take: its OPT value within [512, 65507], 512 without OPT. */
export function clientPayloadSize(optSize: number | undefined): number {
  if (optSize === undefined) return MIN_UDP_PAYLOAD;
  return Math.min(MAX_UDP_PAYLOAD, Math.max(MIN_UDP_PAYLOAD, optSize));
}

/** A name dns-packet decoded is usable when every label fits in 63 octets and the whole in 253 (RFC 1035 2.3.4). */
export function validName(name: string): boolean {
  if (name === '.' || name === '') return true;
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (Buffer.byteLength(n) > 253) return false;
  for (const l of n.split('.')) {
    const len = Buffer.byteLength(l);
    if (len === 0 || len > 63) return false;
  }
  return true;
}
