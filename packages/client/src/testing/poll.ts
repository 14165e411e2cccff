// Waits for a condition by polling with a deadline (never a fixed sleep).
import { waitFor } from '@knet/component/testing';

export function until(cond: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  return waitFor(what, cond, timeoutMs, 5);
}
