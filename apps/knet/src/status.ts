// `knet status`: a table of the components, and a non-zero exit when one is unhealthy.
import type { DataDir } from './data-dir.js';
import { readState, runningPid } from './data-dir.js';
import { CliError } from './cli-error.js';

export function status(dir: DataDir): void {
  const pid = runningPid(dir);
  const state = readState(dir);
  if (!pid || !state || state.pid !== pid) {
    throw new CliError(`no cluster is running on data dir ${dir.root}`, 'start one with `knet up` (or `knet up --detach`)');
  }
  const rows = [['COMPONENT', 'PID', 'ADDRESS', 'READY', 'RESTARTS']];
  for (const c of state.components) {
    rows.push([c.name, c.pid ? String(c.pid) : '-', c.address, c.ready ? 'true' : 'false', String(c.restarts)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i])).join('   ').trimEnd()).join('\n');
  process.stdout.write(`cluster on ${dir.root} (pid ${pid}), kubeconfig ${state.kubeconfig}\n${table}\n`);
  const unhealthy = state.components.filter((c) => !c.ready).map((c) => c.name);
  if (!state.ready || unhealthy.length > 0) {
    throw new CliError(
      unhealthy.length ? `not ready: ${unhealthy.join(', ')}` : 'the cluster is still starting',
      `see the logs in ${dir.logs}`,
    );
  }
}
