import test from 'ava';
import { BoundedFrequencyRunner, type Clock } from './bounded-frequency-runner.js';

/** A manual clock: timers fire only when the test advances time. */
class FakeClock implements Clock {
  t = 1000;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private seq = 0;
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Advances to `to`, firing due timers in order and letting their async work settle. */
  async advance(ms: number): Promise<void> {
    const to = this.t + ms;
    for (;;) {
      await settle();
      const due = [...this.timers.entries()].filter(([, x]) => x.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.t = Math.max(this.t, due[1].at);
      due[1].fn();
    }
    this.t = to;
    await settle();
  }
}

const settle = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

function setup(minIntervalMs: number, maxIntervalMs: number, fn?: () => Promise<void> | void) {
  const clock = new FakeClock();
  const runs: number[] = [];
  const errors: unknown[] = [];
  const runner = new BoundedFrequencyRunner(
    async () => {
      runs.push(clock.now());
      await fn?.();
    },
    { minIntervalMs, maxIntervalMs, clock, onError: (e) => errors.push(e) },
  );
  return { clock, runs, runner, errors };
}

interface Step {
  /** advance the clock by this much first */
  wait: number;
  /** then call run() this many times */
  requests?: number;
}

const scenarios: { name: string; min: number; max: number; steps: Step[]; want: number[] }[] = [
  { name: 'min 0: a request runs right away', min: 0, max: 30_000, steps: [{ wait: 0, requests: 1 }, { wait: 1 }], want: [1000] },
  { name: 'min 0: a burst in one tick is one run', min: 0, max: 30_000, steps: [{ wait: 0, requests: 50 }, { wait: 1 }], want: [1000] },
  {
    name: 'min 1s: requests during the wait coalesce into one run at lastRun+1s',
    min: 1000,
    max: 30_000,
    steps: [{ wait: 0, requests: 1 }, { wait: 100, requests: 5 }, { wait: 300, requests: 5 }, { wait: 2000 }],
    want: [1000, 2000],
  },
  {
    name: 'min 1s: a request long after the last run runs at once',
    min: 1000,
    max: 30_000,
    steps: [{ wait: 0, requests: 1 }, { wait: 5000, requests: 1 }, { wait: 1 }],
    want: [1000, 6000],
  },
  {
    name: 'max 30s: periodic runs with no requests',
    min: 1000,
    max: 30_000,
    steps: [{ wait: 0, requests: 1 }, { wait: 65_000 }],
    want: [1000, 31_000, 61_000],
  },
  {
    name: 'a request resets the periodic timer',
    min: 0,
    max: 30_000,
    steps: [{ wait: 0, requests: 1 }, { wait: 20_000, requests: 1 }, { wait: 40_000 }],
    want: [1000, 21_000, 51_000],
  },
  { name: 'max 0: no periodic runs', min: 0, max: 0, steps: [{ wait: 0, requests: 1 }, { wait: 100_000 }], want: [1000] },
];

for (const s of scenarios) {
  test(`runner: ${s.name}`, async (t) => {
    const { clock, runs, runner } = setup(s.min, s.max);
    for (const step of s.steps) {
      await clock.advance(step.wait);
      for (let i = 0; i < (step.requests ?? 0); i++) runner.run();
    }
    await clock.advance(0);
    t.deepEqual(runs, s.want);
    await runner.stop();
  });
}

test('runner: a request during a run gives exactly one more run after it, no overlap', async (t) => {
  let release!: () => void;
  let active = 0;
  let maxActive = 0;
  const { clock, runs, runner } = setup(0, 0, async () => {
    active++;
    maxActive = Math.max(maxActive, active);
    if (runs.length === 1) await new Promise<void>((r) => (release = r));
    active--;
  });
  runner.run();
  await clock.advance(0);
  t.is(runs.length, 1);
  runner.run();
  runner.run();
  await clock.advance(10);
  t.is(runs.length, 1, 'waits for the run in progress');
  release();
  await clock.advance(0);
  await clock.advance(0);
  t.is(runs.length, 2);
  t.is(maxActive, 1);
  await runner.stop();
});

test('runner: a failing run is reported and retryAfter schedules another, bounded by min interval', async (t) => {
  const { clock, runs, runner, errors } = setup(1000, 0, () => {
    if (runs.length === 1) {
      runner.retryAfter(200);
      throw new Error('boom');
    }
  });
  runner.run();
  await clock.advance(0);
  t.is(errors.length, 1);
  await clock.advance(5000);
  t.deepEqual(runs, [1000, 2000], 'the retry waited for the min interval, not just 200 ms');
  await runner.stop();
});

test('runner: stop() cancels what is scheduled and waits for a run in progress', async (t) => {
  const { clock, runs, runner } = setup(1000, 30_000);
  runner.run();
  await clock.advance(0);
  runner.run();
  await runner.stop();
  await clock.advance(100_000);
  t.deepEqual(runs, [1000]);
});

test('runner: rejects bad intervals', (t) => {
  t.throws(() => new BoundedFrequencyRunner(() => {}, { minIntervalMs: 2000, maxIntervalMs: 1000 }), { instanceOf: RangeError });
  t.throws(() => new BoundedFrequencyRunner(() => {}, { minIntervalMs: -1, maxIntervalMs: 0 }), { instanceOf: RangeError });
});
