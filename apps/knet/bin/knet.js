#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1 --no-opt --no-sparkplug
// The knet CLI. `knet up` stays running as the cluster's supervisor: a small young generation and one V8 platform
// thread keep it ~2 MiB smaller while idle, as its light components (apps/knet/src/components.ts). It runs its
// JavaScript in the interpreter: it spawns, probes and pipes a few log lines, nothing hot, and the optimizing and
// baseline compilers cost it ~5 MiB (their code pages and the compiler's memory: idle 55 → 50 MiB). Its setup
// workers (in-worker.ts) compile as usual.
import '../dist/main.js';
