import test, { type ExecutionContext } from 'ava';
import { nativeAddon } from '../native-addon.js';
import type { TcpEngine } from '../types.js';

/** A way to run TCP: an engine, and for the native one whether connections use io_uring. */
export interface EngineOptions {
  tcpEngine: TcpEngine;
  ioUring: boolean;
}

/**
 * The ways a test runs on: on Linux (where the native engine must build: a failed build fails its tests instead of
 * quietly leaving only the JS engine) the native one with io_uring (epoll where the kernel refuses it), the native
 * one on epoll, and the JS one; the JS one alone elsewhere when the addon is not there.
 */
export const tcpVariants: Record<string, EngineOptions> =
  process.platform === 'linux' || 'addon' in nativeAddon
    ? {
        native: { tcpEngine: 'native', ioUring: true },
        'native epoll': { tcpEngine: 'native', ioUring: false },
        js: { tcpEngine: 'js', ioUring: false },
      }
    : { js: { tcpEngine: 'js', ioUring: false } };

const variantOf = new WeakMap<ExecutionContext, EngineOptions>();

/** Registers a test once per variant, titled with it; engineOptions(t) tells the body which one it runs. */
export function tcpTest(title: string, impl: (t: ExecutionContext) => Promise<void> | void): void {
  for (const [name, options] of Object.entries(tcpVariants)) {
    test(`${title} [${name}]`, (t) => {
      variantOf.set(t, options);
      return impl(t);
    });
  }
}

/** The Dataplane options of the variant a tcpTest runs. */
export function engineOptions(t: ExecutionContext): EngineOptions {
  const o = variantOf.get(t);
  if (o === undefined) throw new Error('engineOptions(t): not a tcpTest');
  return o;
}
