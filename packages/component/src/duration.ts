// Go-style durations ('30s', '500ms', '1h30m', '0'), as Kubernetes components take them on
// their command lines. Each app words its own flag error around a null.

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go duration; null when s is not one. A bare number is valid only as 0. */
export function goDuration(s: string): number | null {
  const text = s.trim();
  if (text === '') return null;
  if (/^0+(?:\.0+)?$/.test(text)) return 0;
  let total = 0;
  let rest = text;
  while (rest !== '') {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)/.exec(rest);
    if (m === null) return null;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(total);
}
