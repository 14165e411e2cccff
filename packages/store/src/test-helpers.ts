// Shared by the tests: a store in a fresh temporary directory, removed afterwards.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExecutionContext } from 'ava';
import type { KubeObject } from '@knet/api';
import { Store } from './store.js';
import type { StoreOptions } from './types.js';

export async function tempDir(t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'knet-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Opens a store in a temp dir; closed in teardown (before the dir is removed). */
export async function openTemp(t: ExecutionContext, opts?: StoreOptions): Promise<{ store: Store; dir: string }> {
  const dir = await tempDir(t);
  const store = await Store.open(join(dir, 'db'), opts);
  t.teardown(() => store.close());
  return { store, dir: join(dir, 'db') };
}

export function svc(name: string, namespace = 'default', extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace, labels: { app: name } },
    ...extra,
  };
}

/** Polls until check() holds, failing after the deadline. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
