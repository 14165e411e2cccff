// Helpers the test suites (and benchmarks) of every package share.
import { createServer } from 'node:net';

/**
 * Polls fn until it returns something other than undefined; throws after ms naming what
 * it waited for. Convergence is awaited with a deadline, never a fixed sleep.
 */
export async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000, intervalMs = 20): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Polls a condition until it holds; throws after ms naming what it waited for. */
export async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = 10_000, intervalMs = 20): Promise<void> {
  await until(what, async () => ((await cond()) ? true : undefined), ms, intervalMs);
}

/**
 * Like until, for probes that may fail while the system converges: a throw or `false` also
 * means "not yet", and the timeout error carries the last thrown error.
 */
export async function untilOk<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** A small seeded PRNG (mulberry32) in [0, 1): the same seed gives the same run. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A TCP port on 127.0.0.1 that was free a moment ago, for flags where 0 cannot mean "any free port". */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
