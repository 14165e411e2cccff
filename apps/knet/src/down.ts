// `knet down`: stop the cluster that holds a data dir.
import type { DataDir } from './data-dir.js';
import { runningPid } from './data-dir.js';

export async function down(dir: DataDir, timeoutMs = 20_000): Promise<void> {
  const pid = runningPid(dir);
  if (!pid) {
    process.stdout.write(`no cluster is running on data dir ${dir.root}\n`);
    return;
  }
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + timeoutMs;
  while (runningPid(dir) === pid && isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL');
      break;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  process.stdout.write(`stopped the cluster on data dir ${dir.root} (pid ${pid})\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
