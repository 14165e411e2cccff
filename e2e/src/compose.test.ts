// docker-compose.yml cannot run here (no Docker engine): check that every container's command is a
// real entry point of the built repo, and that every flag it passes exists.
import test from 'ava';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import yaml from 'js-yaml';
import { sh } from './harness.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
interface ComposeService {
  image?: string;
  command?: string[];
  entrypoint?: string[];
  network_mode?: string;
  networks?: unknown;
  depends_on?: string[];
}
const compose = yaml.load(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as { services: Record<string, ComposeService>; configs: Record<string, { content: string }> };

/** An entry point and its arguments: `node apps/x/dist/main.js ...` or `knet ...` (on the image's PATH). */
function entry(cmd: string[]): { script: string; args: string[] } {
  if (cmd[0] === 'node') {
    const at = cmd.findIndex((a, i) => i > 0 && !a.startsWith('--')); // after node's own flags
    return { script: join(root, cmd[at]!), args: cmd.slice(at + 1) };
  }
  if (cmd[0] === 'knet') return { script: join(root, 'apps/knet/bin/knet.js'), args: cmd.slice(1) };
  throw new Error(`unknown entry point ${cmd[0]}`);
}

/** The commands a service runs: its command list, or the `knet ...` lines of a `sh -c` script. */
function commands(s: ComposeService): string[][] {
  if (s.entrypoint?.[0] === 'sh' && s.entrypoint[1] === '-c' && s.entrypoint.length === 2) {
    return s.command!.join(' ').split('&&').map((line) => line.trim().split(/\s+/));
  }
  return [s.command!];
}

test('every service runs from the one image, with a command', (t) => {
  t.true(Object.keys(compose.services).length >= 8);
  for (const [name, s] of Object.entries(compose.services)) {
    t.is(s.image, 'knet:local', name);
    t.true(Array.isArray(s.command) && s.command.length > 0, name);
    t.false(Boolean(s.network_mode && s.networks), `${name}: network_mode and networks exclude each other`);
    for (const dep of s.depends_on ?? []) t.truthy(compose.services[dep], `${name} depends on unknown ${dep}`);
  }
  t.truthy(compose.services['node-1'] && compose.services['node-2'], 'two node proxies');
  t.regex(compose.configs.kubeconfig.content, /server: "http:\/\/172\.28\.0\.2:6443"/);
});

for (const [name, s] of Object.entries(compose.services)) {
  test(`${name}: its entry point exists and knows every flag it is given`, async (t) => {
    for (const cmd of commands(s)) {
      const { script, args } = entry(cmd);
      t.true(existsSync(script), `${script} exists (built)`);
      const sub = cmd[0] === 'knet' ? [args[0]!] : [];
      const help = await sh(process.execPath, [script, ...sub, '--help']);
      t.is(help.code, 0, `${cmd.join(' ')} --help: ${help.stderr}`);
      // Flags are what comes before a lone `--` (after it: the pod's own command).
      const own = args.indexOf('--') < 0 ? args.slice(sub.length) : args.slice(sub.length, args.indexOf('--'));
      for (const f of own.filter((a) => a.startsWith('--'))) {
        const flag = f.split('=')[0]!;
        t.true(help.stdout.includes(flag), `${name}: ${flag} is not a flag of ${cmd.slice(0, 2).join(' ')}`);
      }
    }
  });
}
