/** An independent PROXY protocol reader for test backends (haproxy proxy-protocol.txt). */
export interface ParsedProxy {
  version: 1 | 2;
  command?: 'LOCAL' | 'PROXY';
  family: string;
  source?: string;
  destination?: string;
  sourcePort?: number;
  destinationPort?: number;
  /** Bytes after the header. */
  rest: Buffer;
}

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** Parses a header at the start of `buf`; undefined if more bytes are needed. Throws on garbage. */
export function parseProxy(buf: Buffer): ParsedProxy | undefined {
  if (buf.length >= 12 && buf.subarray(0, 12).equals(SIG)) return parseV2(buf);
  if (buf.length < 6) return undefined;
  if (buf.subarray(0, 6).toString('latin1') !== 'PROXY ') throw new Error('not a PROXY header');
  const end = buf.indexOf('\r\n');
  if (end < 0) {
    if (buf.length > 107) throw new Error('v1 header longer than 107 bytes');
    return undefined;
  }
  const parts = buf.subarray(0, end).toString('latin1').split(' ');
  if (parts[1] === 'UNKNOWN') return { version: 1, family: 'UNKNOWN', rest: buf.subarray(end + 2) };
  if (parts.length !== 6) throw new Error(`bad v1 header: ${parts.join(' ')}`);
  return {
    version: 1,
    family: parts[1]!,
    source: parts[2]!,
    destination: parts[3]!,
    sourcePort: Number(parts[4]),
    destinationPort: Number(parts[5]),
    rest: buf.subarray(end + 2),
  };
}

function v6(b: Buffer): string {
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(b.readUInt16BE(i).toString(16));
  return words.join(':');
}

function parseV2(buf: Buffer): ParsedProxy | undefined {
  if (buf.length < 16) return undefined;
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) throw new Error(`bad v2 version ${verCmd >> 4}`);
  const command = (verCmd & 0xf) === 1 ? 'PROXY' : 'LOCAL';
  const fam = buf[13]!;
  const len = buf.readUInt16BE(14);
  if (buf.length < 16 + len) return undefined;
  const body = buf.subarray(16, 16 + len);
  const rest = buf.subarray(16 + len);
  const transport = (fam & 0xf) === 1 ? 'STREAM' : (fam & 0xf) === 2 ? 'DGRAM' : 'UNSPEC';
  switch (fam >> 4) {
    case 1:
      return {
        version: 2,
        command,
        family: `INET/${transport}`,
        source: [...body.subarray(0, 4)].join('.'),
        destination: [...body.subarray(4, 8)].join('.'),
        sourcePort: body.readUInt16BE(8),
        destinationPort: body.readUInt16BE(10),
        rest,
      };
    case 2:
      return {
        version: 2,
        command,
        family: `INET6/${transport}`,
        source: v6(body.subarray(0, 16)),
        destination: v6(body.subarray(16, 32)),
        sourcePort: body.readUInt16BE(32),
        destinationPort: body.readUInt16BE(34),
        rest,
      };
    default:
      return { version: 2, command, family: 'UNSPEC', rest };
  }
}
