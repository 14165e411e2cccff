#!/usr/bin/env -S node --max-semi-space-size=1 --v8-pool-size=1
// The knet CLI. `knet up` stays running as the cluster's supervisor: a small young generation and one V8 platform
// thread keep it ~2 MiB smaller while idle, as its light components (apps/knet/src/components.ts).
import '../dist/main.js';
