#!/usr/bin/env node
// Builds the native addons of the workspaces that have one (a `binding.gyp`), with node-gyp, when a source is
// newer than the built addon. Run by `npm ci` (the root `prepare`), by `npm start` (build-if-stale) and by the
// `build` script of a workspace that has an addon, so a changed C source is rebuilt like a changed .ts file.
//
// Usage: build-native.mjs [workspace dir...]   (relative to the current directory; default: every workspace
// under packages/ and apps/). The addons are Linux-only fast paths (each package falls back to its JavaScript
// path without one): elsewhere nothing is built. On Linux a failed build fails the install, so a machine
// without a compiler is told instead of quietly running the slow path.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const nodeGyp = createRequire(import.meta.url).resolve('node-gyp/bin/node-gyp.js');

/** Newest mtime (ms) of a file, or of everything in a directory. */
function newest(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const e of readdirSync(path)) t = Math.max(t, newest(join(path, e)));
  return t;
}

/** The built addons of a workspace (build/Release/*.node), oldest mtime, or -Infinity when there is none. */
function builtAt(dir) {
  const out = join(dir, 'build', 'Release');
  if (!existsSync(out)) return -Infinity;
  const addons = readdirSync(out).filter((f) => f.endsWith('.node'));
  return addons.length === 0 ? -Infinity : Math.min(...addons.map((f) => statSync(join(out, f)).mtimeMs));
}

/** What node-gyp reads: binding.gyp and the `native/` sources next to it. */
function sourcesAt(dir) {
  const native = join(dir, 'native');
  return Math.max(newest(join(dir, 'binding.gyp')), existsSync(native) ? newest(native) : -Infinity);
}

/** Rebuilds the stale addons among `dirs` (default: every workspace of the monorepo at `root`). */
export function buildNative(root, dirs) {
  if (process.platform !== 'linux') return;
  const workspaces = dirs ?? ['packages', 'apps'].flatMap((d) =>
    existsSync(join(root, d)) ? readdirSync(join(root, d)).map((w) => join(root, d, w)) : [],
  );
  for (const dir of workspaces.map((d) => resolve(root, d))) {
    if (!existsSync(join(dir, 'binding.gyp'))) continue;
    if (builtAt(dir) >= sourcesAt(dir)) continue;
    process.stderr.write(`build-native: node-gyp rebuild in ${dir}\n`);
    execFileSync(process.execPath, [nodeGyp, 'rebuild', '--release', '--loglevel=warn', ...nodedir()], {
      cwd: dir,
      stdio: ['ignore', 'inherit', 'inherit'],
    });
  }
}

/**
 * Build against the running Node's own headers, so nothing is downloaded: npm passes its `nodedir` setting as
 * npm_config_nodedir; run outside npm, the headers installed next to this node binary are used when present.
 */
function nodedir() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = dirname(dirname(process.execPath));
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('..', import.meta.url));
  buildNative(root, process.argv.length > 2 ? process.argv.slice(2).map((d) => resolve(d)) : undefined);
}
