// undici's Pool, Agent and request without undici's index: the index loads all of undici (fetch,
// WebSocket, cache, mock, ~110 modules), which costs each process that only needs keep-alive pools
// ~7 MiB RSS and the time to load them (measured: an idle node 53 vs 60 MiB). These are undici's
// internal files: check this module on every undici upgrade (the client and ipam tests exercise it).
import { createRequire } from 'node:module';
import type { Agent as UndiciAgent, Dispatcher, Pool as UndiciPool } from 'undici';

const require = createRequire(import.meta.url);

export const Pool = require('undici/lib/dispatcher/pool.js') as typeof UndiciPool;
export type Pool = UndiciPool;
export const Agent = require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
export type Agent = UndiciAgent;

const apiRequest = require('undici/lib/api/api-request.js') as (this: Dispatcher, opts: Dispatcher.RequestOptions) => Promise<Dispatcher.ResponseData>;

/** `dispatcher.request(opts)`: undici's index adds `request` to every dispatcher; this calls it without the index. */
export function request(dispatcher: Dispatcher, opts: Dispatcher.RequestOptions): Promise<Dispatcher.ResponseData> {
  return apiRequest.call(dispatcher, opts);
}
