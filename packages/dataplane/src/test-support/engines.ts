import test, { type ExecutionContext } from 'ava';
import { nativeAddon } from '../native-addon.js';
import type { TcpEngine } from '../types.js';

/**
 * The TCP engines a test runs on: both on Linux (where the native one must build: a failed build fails its tests
 * instead of quietly leaving only the JS engine), the JS one alone elsewhere when the addon is not there.
 */
export const tcpEngines: TcpEngine[] = process.platform === 'linux' || 'addon' in nativeAddon ? ['native', 'js'] : ['js'];

const engineOf = new WeakMap<ExecutionContext, TcpEngine>();

/** Registers a test once per TCP engine, titled with the engine; engine(t) tells the body which one it runs. */
export function tcpTest(title: string, impl: (t: ExecutionContext) => Promise<void> | void): void {
  for (const e of tcpEngines) {
    test(`${title} [${e}]`, (t) => {
      engineOf.set(t, e);
      return impl(t);
    });
  }
}

export function engine(t: ExecutionContext): TcpEngine {
  const e = engineOf.get(t);
  if (e === undefined) throw new Error('engine(t): not a tcpTest');
  return e;
}
