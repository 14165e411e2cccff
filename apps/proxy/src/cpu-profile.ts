// KNET_CPU_PROFILE=<file>: profile the proxy from start to shutdown (node --cpu-prof cannot be passed through
// NODE_OPTIONS, and `knet up` starts the proxy itself). Open the file in Chrome DevTools or speedscope.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

export function startCpuProfile(file: string | undefined): () => void {
  if (!file) return () => {};
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  return () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(file, JSON.stringify(res.profile));
      session.disconnect();
    });
  };
}
