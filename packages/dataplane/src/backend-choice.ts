// Which backend a new connection (or UDP flow) goes to, for every engine: the JS and native TCP listeners and the
// UDP listener make these decisions in one place.
import type { AffinityTable } from './affinity.js';
import type { BackendPool, Target } from './backend-pool.js';

/**
 * The client's remembered backend when it is still in the pool, else the next in round robin. The choice is
 * recorded for the client at once, as kube-proxy's `recent` match does: simultaneous first connections of one
 * client must not land on different backends. `client` is undefined when the listener has no affinity.
 */
export function firstChoice(pool: BackendPool, affinity: AffinityTable | undefined, client: string | undefined): Target | undefined {
  let t: Target | undefined;
  if (affinity !== undefined && client !== undefined) {
    const k = affinity.get(client);
    if (k !== undefined) t = pool.get(k);
  }
  t ??= pool.next();
  if (t !== undefined && affinity !== undefined && client !== undefined) affinity.set(client, t.key);
  return t;
}

/**
 * After a failed connect to `failed`: the next untried backend while fewer than `maxAttempts` were tried (`tried`
 * includes `failed`), recorded for the client; or undefined, and the client no longer sticks to `failed`.
 */
export function choiceAfterFailure(
  pool: BackendPool,
  affinity: AffinityTable | undefined,
  client: string | undefined,
  failed: Target,
  tried: readonly Target[],
  maxAttempts: number,
): Target | undefined {
  const next = tried.length < maxAttempts ? pool.after(failed, tried) : undefined;
  if (next === undefined) forgetFailed(affinity, client, failed);
  else if (affinity !== undefined && client !== undefined) affinity.set(client, next.key);
  return next;
}

/** Drops the client's affinity when it still points at a backend that just failed. */
export function forgetFailed(affinity: AffinityTable | undefined, client: string | undefined, failed: Target): void {
  if (affinity !== undefined && client !== undefined && affinity.get(client) === failed.key) affinity.delete(client);
}
