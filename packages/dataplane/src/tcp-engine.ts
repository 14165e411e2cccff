import { nativeAddon } from './native-addon.js';
import type { TcpEngine } from './types.js';

/**
 * The TCP engine a Dataplane runs: the option, else KNET_TCP_ENGINE (how tests and benches run a whole process on
 * either), else the native one when its addon loaded (Linux with a compiler at install), else the JS one.
 */
export function resolveTcpEngine(wanted: TcpEngine | undefined, env = process.env['KNET_TCP_ENGINE']): TcpEngine {
  const w = wanted ?? (env === undefined || env === '' ? undefined : env);
  if (w !== undefined && w !== 'native' && w !== 'js') {
    throw new RangeError(`tcpEngine: must be 'native' or 'js', got ${JSON.stringify(w)}`);
  }
  if (w === 'native' && 'error' in nativeAddon) {
    throw new Error(`tcpEngine 'native': the addon did not load (${nativeAddon.error}); build it with npm ci or npm run build`);
  }
  return w ?? ('addon' in nativeAddon ? 'native' : 'js');
}
