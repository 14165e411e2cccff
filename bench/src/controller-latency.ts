// Where the time of one readiness flip goes (bench:controller): the bench's own timestamps of each
// flip and of the slice's watch event, joined with the controller's debug trace of its slice updates
// ("EndpointSlice updated": when the Pod event came, the sync started, the update was sent and answered).
import { percentile } from './results.js';

/** The wall clock with sub-millisecond resolution, comparable across processes. */
export const wallMs = (): number => performance.timeOrigin + performance.now();

export interface Flip {
  service: string;
  trigger: number;
  putSent: number;
  putAcked?: number;
}

interface ControllerTrace {
  podEventAt?: number;
  staleAt?: number;
  busyAtPodEvent?: number;
  syncStart: number;
  sent: number;
  acked: number;
}

/** The stages of one flip, each from the end of the one before. */
const stages = [
  ['Pod PUT sent → acknowledged', (f: Flip) => f.putSent, (f: Flip) => f.putAcked],
  ['Pod PUT sent → controller sees the Pod event', (f: Flip) => f.putSent, (_f: Flip, c: ControllerTrace) => c.podEventAt],
  ['Pod event → sync starts (queue)', (_f: Flip, c: ControllerTrace) => c.podEventAt, (_f: Flip, c: ControllerTrace) => c.syncStart],
  ['sync starts → slice PUT sent', (_f: Flip, c: ControllerTrace) => c.syncStart, (_f: Flip, c: ControllerTrace) => c.sent],
  ['slice PUT sent → acknowledged', (_f: Flip, c: ControllerTrace) => c.sent, (_f: Flip, c: ControllerTrace) => c.acked],
  ['slice PUT sent → bench sees MODIFIED', (_f: Flip, c: ControllerTrace) => c.sent, (_f: Flip, _c: ControllerTrace, seen: number) => seen],
] as const;

export class LatencyBreakdown {
  private readonly flips = new Map<string, Flip>();
  private readonly traces = new Map<string, ControllerTrace>();
  private readonly seen: { key: string; at: number; latency: number }[] = [];
  private partial = '';

  flip(f: Flip): void {
    this.flips.set(`${f.service}|${f.trigger}`, f);
  }

  /** A slice's MODIFIED event carrying a trigger time. */
  sliceSeen(service: string, trigger: number, at: number): void {
    this.seen.push({ key: `${service}|${trigger}`, at, latency: at - trigger });
  }

  /** The controller's stdout (pino JSON lines). */
  controllerOutput(chunk: Buffer): void {
    const lines = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.includes('Mark-Compact') || / (\d{2,}\.\d+) \/ /.test(line)) console.log(`controller GC at ${(wallMs() % 100000).toFixed(0)}: ${line.trim()}`);
      if (!line.includes('"EndpointSlice updated"')) continue;
      try {
        const l = JSON.parse(line) as ControllerTrace & { key: string; triggerTime?: string };
        if (l.triggerTime === undefined) continue;
        const service = l.key.slice(l.key.indexOf('/') + 1);
        this.traces.set(`${service}|${Date.parse(l.triggerTime)}`, l);
      } catch { /* not a log line */ }
    }
  }

  /** The n slowest joined flips, stage by stage (for the console). */
  slowest(n: number): string[] {
    const out: string[] = [];
    const sorted = [...this.seen].sort((a, b) => b.latency - a.latency).slice(0, n);
    for (const s of sorted) {
      const f = this.flips.get(s.key);
      const c = this.traces.get(s.key);
      const parts = stages.map(([name, from, to]) => {
        const a = f && c ? from(f, c) : undefined;
        const b = f && c ? to(f, c, s.at) : undefined;
        return `${name.split(' ')[0]}…${name.split(' ').pop()}=${a === undefined || b === undefined ? '?' : (b - a).toFixed(1)}`;
      });
      out.push(`${s.latency.toFixed(0)} ms ${s.key} at +${f ? (f.trigger % 100000).toFixed(0) : '?'}: ${parts.join(' ')} busy=${c?.busyAtPodEvent ?? '?'}${c?.staleAt ? ' stale' : ''}`);
    }
    return out;
  }

  /** p50 / p99 of each stage over all joined flips, and its mean over the flips at or above the p99 of the whole. */
  report(): string[][] {
    const joined: { f: Flip; c: ControllerTrace; seen: number; latency: number }[] = [];
    for (const s of this.seen) {
      const f = this.flips.get(s.key);
      const c = this.traces.get(s.key);
      if (f && c) joined.push({ f, c, seen: s.at, latency: s.latency });
    }
    if (joined.length === 0) return [];
    const p99 = percentile(joined.map((j) => j.latency).sort((a, b) => a - b), 99);
    const tail = joined.filter((j) => j.latency >= p99);
    const rows = [['stage (ms)', 'p50', 'p99', `mean over the ${tail.length} flips ≥ p99 (${p99.toFixed(0)} ms)`]];
    for (const [name, from, to] of stages) {
      const d = (j: (typeof joined)[number]) => {
        const a = from(j.f, j.c);
        const b = to(j.f, j.c, j.seen);
        return a === undefined || b === undefined ? undefined : b - a;
      };
      const all = joined.map(d).filter((x): x is number => x !== undefined).sort((a, b) => a - b);
      const t = tail.map(d).filter((x): x is number => x !== undefined);
      rows.push([name, percentile(all, 50).toFixed(1), percentile(all, 99).toFixed(1), (t.reduce((a, b) => a + b, 0) / t.length).toFixed(1)]);
    }
    rows.push([`flips joined with the controller's trace`, String(joined.length), '', '']);
    rows.push([`of them waiting for the controller's cache to show its previous write (stale)`, String(joined.filter((j) => j.c.staleAt !== undefined).length), '', String(tail.filter((j) => j.c.staleAt !== undefined).length)]);
    return rows;
  }
}
