export { Store } from './store.js';
export { encodeJSON } from './encoded.js';
export { StoreError, qualifiedResource } from './errors.js';
export type { StoreErrorReason } from './errors.js';
export { parseResourceVersion } from './keys.js';
export { fsyncModes } from './types.js';
export type { FsyncMode, ListOptions, ListResult, StoreEvent, StoreEventType, WatchOptions, Watcher, StoreOptions } from './types.js';
