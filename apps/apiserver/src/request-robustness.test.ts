// What a hostile body must not do to the server: nest deep enough to overflow the stack, or carry
// field names that cannot go into a Warning header as they are.
import test from 'ava';
import { decodeJSON, jsonDepthExceeds, MAX_JSON_DEPTH } from './body.js';
import { warningHeader } from './rest.js';
import { ApiError } from './status.js';

const nest = (n: number) => '['.repeat(n) + ']'.repeat(n);

const depthCases: [string, string, number, boolean][] = [
  ['flat object', '{"a":1}', 1, false],
  ['at the limit', nest(3), 3, false],
  ['past the limit', nest(4), 3, true],
  ['more brackets than the limit, side by side', '[[],[],[[]],{}]', 3, false],
  ['past the limit after shallow siblings', '[[],[],[[[]]]]', 3, true],
  ['brackets inside strings do not count', '{"a":"[[[[{{{{"}', 1, false],
  ['escaped quotes keep the string open', '{"a":"\\"[[[["}', 1, false],
  ['escaped backslash closes the string', '{"a":"\\\\","b":[[[]]]}', 3, true],
];
for (const [name, text, max, exceeds] of depthCases) {
  test(`jsonDepthExceeds: ${name}`, (t) => t.is(jsonDepthExceeds(text, max), exceeds));
}

test('decodeJSON refuses a body nested past the limit with 400, and takes one at the limit', (t) => {
  t.deepEqual(decodeJSON(Buffer.from(nest(MAX_JSON_DEPTH))), JSON.parse(nest(MAX_JSON_DEPTH)));
  const err = t.throws(() => decodeJSON(Buffer.from(nest(100_000))), { instanceOf: ApiError }) as ApiError;
  t.is(err.status.code, 400);
  t.regex(err.status.message ?? '', /exceeded max depth/);
});

const warningCases: [string, string, string][] = [
  ['ascii', 'unknown field "spec.x"', '299 - "unknown field \\"spec.x\\""'],
  ['emoji, as UTF-8 bytes', 'unknown field "😀"', Buffer.from('299 - "unknown field \\"😀\\""', 'utf8').toString('latin1')],
  ['control characters escaped', 'a\nb\u0000c\u007f', '299 - "a\\nb\\u0000c\\u007f"'],
];
for (const [name, text, header] of warningCases) {
  test(`warningHeader: ${name}`, (t) => {
    t.is(warningHeader(text), header);
    t.notRegex(warningHeader(text), /[^\t\x20-\x7e\x80-\xff]/, 'only characters Node accepts in a header');
  });
}
