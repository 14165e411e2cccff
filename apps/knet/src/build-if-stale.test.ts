// scripts/build-if-stale.mjs (`npm start`'s build step) on a monorepo of one project of its own.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(repo, 'scripts', 'build-if-stale.mjs');

function monorepo(): string {
  const root = mkdtempSync(join(tmpdir(), 'knet-build-'));
  mkdirSync(join(root, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(join(repo, 'node_modules', 'typescript'), join(root, 'node_modules', 'typescript'));
  symlinkSync(join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), join(root, 'node_modules', '.bin', 'tsc'));
  writeFileSync(join(root, 'package.json'), '{"private":true}\n');
  writeFileSync(join(root, 'tsconfig.base.json'), JSON.stringify({ compilerOptions: { composite: true, module: 'NodeNext', moduleResolution: 'NodeNext', types: [] } }));
  writeFileSync(join(root, 'tsconfig.json'), JSON.stringify({ files: [], references: [{ path: 'pkg' }] }));
  mkdirSync(join(root, 'pkg', 'src'), { recursive: true });
  writeFileSync(join(root, 'pkg', 'package.json'), '{"type":"module"}\n');
  writeFileSync(join(root, 'pkg', 'tsconfig.json'), JSON.stringify({ extends: '../tsconfig.base.json', compilerOptions: { rootDir: 'src', outDir: 'dist' }, include: ['src'] }));
  writeFileSync(join(root, 'pkg', 'src', 'a.ts'), 'export const a = 1;\n');
  return root;
}

const stamp = (root: string) => readFileSync(join(root, 'node_modules', '.cache', 'knet', 'build-stamp'), 'utf8');
const build = (root: string) => execFileSync(process.execPath, [script, root], { stdio: 'pipe' });

/** An edit made after the last build finished (an mtime at least 50 ms past its stamp). */
function edit(root: string, file: string, text: string): void {
  const { finished } = JSON.parse(stamp(root)) as { finished: number };
  while (Date.now() < finished + 50) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  writeFileSync(join(root, 'pkg', 'src', file), text);
}

test('builds when never built, skips when nothing changed, rebuilds after a source changes', (t) => {
  const root = monorepo();
  t.teardown(() => rmSync(root, { recursive: true, force: true }));

  build(root);
  t.true(existsSync(join(root, 'pkg', 'dist', 'a.js')));
  const first = stamp(root);

  build(root);
  t.is(stamp(root), first, 'nothing changed: tsc -b is not run');

  edit(root, 'a.ts', 'export const a = 2;\n');
  build(root);
  t.not(stamp(root), first);
  t.regex(readFileSync(join(root, 'pkg', 'dist', 'a.js'), 'utf8'), /a = 2/);

  edit(root, 'b.ts', 'export const b = 3;\n');
  build(root);
  t.true(existsSync(join(root, 'pkg', 'dist', 'b.js')), 'a new file is built');
});
