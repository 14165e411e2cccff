import test from 'ava';
import * as prom from 'prom-client';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from './prom-lean.js';

test('the lean classes are the ones prom-client exports', (t) => {
  t.is(Registry, prom.Registry);
  t.is(Counter, prom.Counter);
  t.is(Gauge, prom.Gauge);
  t.is(Histogram, prom.Histogram);
});

test('collectDefaultMetrics registers what prom-client registers, with the same names, help, types and labels', async (t) => {
  const shape = async (r: prom.Registry) =>
    (await r.getMetricsAsJSON()).map((m) => ({ name: m.name, help: m.help, type: m.type, labels: [...new Set(m.values.flatMap((v) => Object.keys(v.labels)))].sort() }));
  const theirs = new prom.Registry();
  prom.collectDefaultMetrics({ register: theirs, prefix: 'x_', labels: { app: 'a' } });
  const ours = new Registry();
  collectDefaultMetrics({ register: ours, prefix: 'x_', labels: { app: 'a' } });
  const want = await shape(theirs);
  t.true(want.length > 10);
  t.deepEqual(await shape(ours), want);
});

test('process CPU counters count the CPU time since they were registered', async (t) => {
  const r = new Registry();
  collectDefaultMetrics({ register: r });
  const t0 = process.cpuUsage();
  while (process.cpuUsage(t0).user < 30_000) Math.sqrt(Math.random());
  const value = async (name: string) => (await r.getSingleMetric(name)!.get()).values[0]!.value;
  const user = await value('process_cpu_user_seconds_total');
  const total = await value('process_cpu_seconds_total');
  t.true(user >= 0.03, `user ${user}`);
  t.true(total >= user, `total ${total}`);
  t.true(Math.abs(total - user - (await value('process_cpu_system_seconds_total'))) < 1e-9);
});
