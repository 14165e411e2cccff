// Flag values the apiserver accepts, parsed with clear errors (pure, unit-tested).
import { goDuration } from '@knet/component';

export function parseHostPort(v: string): { host: string; port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]*)):(\d+)$/.exec(v.trim());
  if (!m) throw new Error(`invalid address ${JSON.stringify(v)}: expected host:port, e.g. 127.0.0.1:6443`);
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`invalid port in ${JSON.stringify(v)}: must be 0-65535`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port };
}

/** "60s", "500ms", "2m", "1h" or plain seconds → milliseconds. */
export function parseDuration(v: string): number {
  const text = v.trim();
  const ms = goDuration(/^\d+(?:\.\d+)?$/.test(text) ? `${text}s` : text);
  if (ms === null) throw new Error(`invalid duration ${JSON.stringify(v)}: expected e.g. 500ms, 60s, 2m`);
  return ms;
}

export function parseCIDRList(v: string): string[] {
  const list = v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const c of list) {
    if (!/^[0-9a-fA-F:.]+\/\d{1,3}$/.test(c)) throw new Error(`invalid CIDR ${JSON.stringify(c)} in --service-cluster-ip-range`);
  }
  if (list.length === 0 || list.length > 2) throw new Error('--service-cluster-ip-range takes one CIDR, or two (IPv4,IPv6) for dual-stack');
  return list;
}
