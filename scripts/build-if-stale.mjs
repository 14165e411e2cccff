#!/usr/bin/env node
// `npm start`'s build step: `tsc -b`, skipped when nothing it reads has changed since its last success.
// tsc -b's own up-to-date check first loads the compiler (~300 ms of a ~3 s start); this one stats
// the inputs (~10 ms). Inputs: every referenced project's directory, sources, dist directories and
// configs, the root configs and the TypeScript version; any newer than the stamp → tsc -b.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildNative } from './build-native.mjs';

// The monorepo root: this repository, or the one given (the test builds a small one of its own).
const root = process.argv[2] ?? fileURLToPath(new URL('..', import.meta.url));
const stampFile = join(root, 'node_modules', '.cache', 'knet', 'build-stamp');

/** Newest mtime (ms) of path: a file, or a directory with everything in it (directories only when dirsOnly). */
function newest(path, dirsOnly = false) {
  let st;
  try {
    st = statSync(path);
  } catch {
    return Infinity; // missing: let tsc -b decide what to do about it
  }
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs; // an entry added, removed or renamed
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (e.isDirectory()) t = Math.max(t, newest(join(path, e.name), dirsOnly));
    else if (!dirsOnly) t = Math.max(t, statSync(join(path, e.name)).mtimeMs);
  }
  return t;
}

/** Newest mtimes of what tsc -b reads (sources, configs) and of what it writes (dist directories, build info). */
function newestFiles() {
  const projects = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).references.map((r) => join(root, r.path));
  let inputs = Math.max(...['tsconfig.json', 'tsconfig.base.json', 'package.json', 'node_modules/typescript/package.json'].map((f) => newest(join(root, f))));
  let outputs = -Infinity;
  for (const p of projects) {
    const configs = readdirSync(p).filter((f) => /^tsconfig.*\.json$|^package\.json$/.test(f)).map((f) => newest(join(p, f)));
    inputs = Math.max(inputs, ...configs, newest(join(p, 'src')));
    // the project directory changes when dist or the build info is removed
    outputs = Math.max(outputs, statSync(p).mtimeMs, newest(join(p, 'dist'), true), newest(join(p, 'tsconfig.tsbuildinfo')));
  }
  return { inputs, outputs };
}

let stamp = { started: -Infinity, finished: -Infinity };
try {
  stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
} catch {
  // never built through here
}
buildNative(root); // the C addons, each checked against its own sources
const now = newestFiles();
if (!(now.inputs <= stamp.started && now.outputs <= stamp.finished)) {
  const started = Date.now(); // an edit made while tsc runs is newer than this: built next time
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-b'], { cwd: root, stdio: 'inherit' });
  mkdirSync(dirname(stampFile), { recursive: true });
  writeFileSync(stampFile, JSON.stringify({ started, finished: Date.now() }));
}
