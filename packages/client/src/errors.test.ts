import test from 'ava';
import { ApiError, apiErrorFromResponse, isAlreadyExists, isConflict, isGone, isInvalid, isNotFound, isTooLargeResourceVersion, needsRelist } from './errors.js';

test('ApiError carries the Status body the server sent', (t) => {
  const body = JSON.stringify({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'services "x" not found',
    reason: 'NotFound',
    details: { name: 'x', kind: 'services' },
    code: 404,
  });
  const err = apiErrorFromResponse(404, body);
  t.true(err instanceof ApiError);
  t.true(err instanceof Error);
  t.is(err.code, 404);
  t.is(err.reason, 'NotFound');
  t.is(err.message, 'services "x" not found');
  t.deepEqual(err.status.details, { name: 'x', kind: 'services' });
  t.true(isNotFound(err));
  t.false(isConflict(err));
});

const bare: [number, string, string][] = [
  [400, 'BadRequest', 'bad'],
  [401, 'Unauthorized', ''],
  [403, 'Forbidden', '<html>nope</html>'],
  [409, 'Conflict', ''],
  [410, 'Gone', ''],
  [422, 'Invalid', ''],
  [429, 'TooManyRequests', ''],
  [500, 'InternalError', 'oops'],
  [502, 'InternalError', ''],
  [503, 'ServiceUnavailable', ''],
];
for (const [code, reason, body] of bare) {
  test(`a non-Status ${code} body becomes a Status with reason ${reason}`, (t) => {
    const err = apiErrorFromResponse(code, body);
    t.is(err.code, code);
    t.is(err.reason, reason);
    t.is(err.status.kind, 'Status');
    t.is(err.status.status, 'Failure');
    t.truthy(err.message);
  });
}

test('predicates follow code and reason', (t) => {
  const mk = (code: number, reason: string): ApiError => apiErrorFromResponse(code, JSON.stringify({ kind: 'Status', status: 'Failure', code, reason, message: 'm' }));
  t.true(isGone(mk(410, 'Expired')));
  t.true(isGone(mk(410, 'Gone')));
  t.true(isAlreadyExists(mk(409, 'AlreadyExists')));
  t.false(isConflict(mk(409, 'AlreadyExists')));
  t.true(isConflict(mk(409, 'Conflict')));
  t.true(isInvalid(mk(422, 'Invalid')));
  t.false(isNotFound(new Error('404')));
  t.false(isGone(undefined));
});

test('a Status body without code takes the HTTP code', (t) => {
  const err = apiErrorFromResponse(409, JSON.stringify({ kind: 'Status', status: 'Failure', reason: 'Conflict', message: 'm' }));
  t.is(err.code, 409);
});

test('too large resourceVersion (504 Timeout, cause ResourceVersionTooLarge) needs a relist, a plain timeout does not', (t) => {
  const tooLarge = apiErrorFromResponse(
    504,
    JSON.stringify({ kind: 'Status', status: 'Failure', code: 504, reason: 'Timeout', message: 'Too large resource version: 900, current: 12', details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 } }),
  );
  t.true(isTooLargeResourceVersion(tooLarge));
  t.true(needsRelist(tooLarge));
  const timeout = apiErrorFromResponse(504, JSON.stringify({ kind: 'Status', status: 'Failure', code: 504, reason: 'Timeout', message: 'm' }));
  t.false(needsRelist(timeout));
  t.true(needsRelist(apiErrorFromResponse(410, '')));
});
