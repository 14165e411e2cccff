// Upstream resolvers from a resolv.conf, as the forward plugin's "forward . /etc/resolv.conf".
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';

/** The nameserver lines of path as "ip:53" / "[ipv6]:53" upstream strings, in file order. */
export function upstreamsFromResolvConf(path = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read resolver configuration ${path}: ${(err as Error).message}`);
  }
  return parseResolvConf(text);
}

export function parseResolvConf(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#;].*$/, '').trim();
    const [kw, addr] = line.split(/\s+/);
    if (kw !== 'nameserver' || !addr) continue;
    const bare = addr.split('%')[0]!;
    const family = isIP(bare);
    if (family === 4) out.push(`${addr}:53`);
    else if (family === 6) out.push(`[${addr}]:53`);
  }
  return out;
}
