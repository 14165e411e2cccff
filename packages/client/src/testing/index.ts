// Test helpers for other packages' unit tests: `import { FakeApiServer, until } from '@knet/client/testing'`.
export { FakeApiServer } from './fake-apiserver.js';
export type { RecordedRequest, FakeTLS } from './fake-apiserver.js';
export { until } from './poll.js';
