// Shared by every benchmark: a worker pool, percentiles, the machine description, and RESULTS.md sections.
import { cpus, totalmem, release } from 'node:os';
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const resultsPath = fileURLToPath(new URL('../RESULTS.md', import.meta.url));

/** Runs fn(0..n-1) with at most conc calls in flight: the load of conc concurrent clients. */
export async function runConcurrently(n: number, conc: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: conc }, async () => { while (next < n) await fn(next++); }));
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

export function summarize(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1], n: s.length };
}

export function machine(): string {
  const c = cpus();
  return `${c.length} × ${c[0]?.model ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}, Node.js ${process.version}`;
}

/** A `<field>: <n> kB` line of /proc/<pid>/status, in MiB. */
function statusMiB(pid: number | undefined, field: string): number {
  if (!pid) return NaN;
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Peak resident set size of a process, in MiB (VmHWM). */
export const peakRssMiB = (pid: number | undefined): number => statusMiB(pid, 'VmHWM');

/** Resident set size of a process now, in MiB (VmRSS). */
export const rssMiB = (pid: number | undefined): number => statusMiB(pid, 'VmRSS');

/** MiB → MB (10^6 bytes), the unit the issues write their memory targets in. */
export const MIB_IN_MB = 1.048576;

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system) a process has used so far, in ms, from /proc: comparable across loads where rates are not. */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return NaN;
  }
}

/** Replaces (or appends) the section `## <name>` of bench/RESULTS.md. */
export function writeSection(name: string, body: string): void {
  const header = '# Benchmark results\n\nEach section is rewritten by the benchmark that owns it.\n';
  const text = existsSync(resultsPath) ? readFileSync(resultsPath, 'utf8') : header;
  const start = text.indexOf(`\n## ${name}\n`);
  const section = `\n## ${name}\n\n${body.trim()}\n`;
  if (start < 0) {
    writeFileSync(resultsPath, text.trimEnd() + '\n' + section);
    return;
  }
  const next = text.indexOf('\n## ', start + 1);
  writeFileSync(resultsPath, text.slice(0, start) + section + (next < 0 ? '' : text.slice(next)));
}

export function table(rows: (string | number)[][]): string {
  const [head, ...rest] = rows;
  const line = (r: (string | number)[]) => `| ${r.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rest.map(line)].join('\n');
}

export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : 'n/a');
