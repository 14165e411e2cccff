// KNET_CPU_PROFILE=<file>: profile the proxy from start to shutdown (node --cpu-prof cannot be passed through
// NODE_OPTIONS, and `knet up` starts the proxy itself). %p in the name becomes the pid, so a restarted proxy
// does not overwrite its predecessor's. Open the file in Chrome DevTools or speedscope.
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

export function startCpuProfile(file: string | undefined): () => void {
  if (!file) return () => {};
  const session = new Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  return () => {
    session.post('Profiler.stop', (err, res) => {
      if (!err) writeFileSync(file.replaceAll('%p', String(process.pid)), JSON.stringify(res.profile));
      session.disconnect();
    });
  };
}
