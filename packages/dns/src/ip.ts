// IP address helpers: canonical text forms, DNS reverse names and the dashed
// forms Kubernetes DNS uses in labels (1-2-3-4, fd00--1).
import { isIPv4, isIPv6 } from 'node:net';

export type Family = 4 | 6;

/** Parses an IPv4 dotted quad into four octets, or null. */
export function parseIPv4(s: string): number[] | null {
  if (!isIPv4(s)) return null;
  return s.split('.').map((p) => Number(p));
}

/** Parses an IPv6 address (with optional embedded IPv4 tail) into eight 16-bit groups, or null. */
export function parseIPv6(s: string): number[] | null {
  if (!isIPv6(s) || s.includes('%')) return null;
  let text = s.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const v4 = text.slice(lastColon + 1);
  if (v4.includes('.')) {
    // Rewrite an embedded IPv4 tail (::ffff:1.2.3.4) as two hex groups.
    const o = parseIPv4(v4);
    if (!o) return null;
    text = `${text.slice(0, lastColon + 1)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups: number[] = head.map((h) => parseInt(h, 16));
  if (halves.length > 1) {
    const fill = 8 - head.length - rest.length;
    for (let i = 0; i < fill; i++) groups.push(0);
  }
  for (const h of rest) groups.push(parseInt(h, 16));
  if (groups.length !== 8 || groups.some((g) => !(g >= 0 && g <= 0xffff))) return null;
  return groups;
}

/** RFC 5952 text for eight groups: lower case, longest run (≥2) of zero groups as '::'. */
export function formatIPv6(groups: number[]): string {
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return hex.slice(0, bestStart).join(':') + '::' + hex.slice(bestStart + bestLen).join(':');
}

/** The canonical text of an IP (v4 as is, v6 per RFC 5952), or null when s is not an IP. */
export function canonicalIP(s: string): string | null {
  // node:net's isIPv4 takes no leading zeros, so a dotted quad it accepts is already canonical: keep the caller's
  // string (shared with the informer's object) instead of a copy per endpoint.
  if (isIPv4(s)) return s;
  const g = parseIPv6(s);
  return g ? formatIPv6(g) : null;
}

export function ipFamily(s: string): Family | null {
  if (isIPv4(s)) return 4;
  if (isIPv6(s)) return 6;
  return null;
}

/** 10.0.0.1 → 1.0.0.10.in-addr.arpa; IPv6 → 32 reversed nibbles + ip6.arpa. */
export function reverseName(ip: string): string | null {
  const v4 = parseIPv4(ip);
  if (v4) return `${v4.slice().reverse().join('.')}.in-addr.arpa`;
  const v6 = parseIPv6(ip);
  if (!v6) return null;
  const nibbles = v6.map((g) => g.toString(16).padStart(4, '0')).join('');
  return `${nibbles.split('').reverse().join('.')}.ip6.arpa`;
}

/**
 * The IP a full reverse name stands for (lower-case name, no trailing dot), or null
 * when the name is not a complete address under in-addr.arpa / ip6.arpa.
 */
export function ipFromReverseName(name: string): string | null {
  if (name.endsWith('.in-addr.arpa')) {
    const labels = name.slice(0, -'.in-addr.arpa'.length).split('.');
    if (labels.length !== 4 || !labels.every((l) => /^(0|[1-9][0-9]{0,2})$/.test(l))) return null;
    const ip = labels.reverse().join('.');
    return isIPv4(ip) ? ip : null;
  }
  if (name.endsWith('.ip6.arpa')) {
    const labels = name.slice(0, -'.ip6.arpa'.length).split('.');
    if (labels.length !== 32 || !labels.every((l) => /^[0-9a-f]$/.test(l))) return null;
    const hex = labels.reverse().join('');
    const groups: number[] = [];
    for (let i = 0; i < 32; i += 4) groups.push(parseInt(hex.slice(i, i + 4), 16));
    return formatIPv6(groups);
  }
  return null;
}

/** CoreDNS's label form of an IP: dots (v4) or colons (v6) become dashes. */
export function dashedIP(ip: string): string {
  return ip.includes('.') ? ip.replaceAll('.', '-') : ip.replaceAll(':', '-');
}

/**
 * The IP a dashed label stands for (CoreDNS's rule: exactly three dashes and no '--'
 * is IPv4, anything else is tried as IPv6), canonicalised; null when not an IP.
 */
export function ipFromDashed(label: string): string | null {
  const dashes = label.split('-').length - 1;
  const text = dashes === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  return canonicalIP(text);
}
