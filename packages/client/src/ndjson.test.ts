import test from 'ava';
import { LineSplitter } from './ndjson.js';

const text = '{"type":"ADDED","object":{"n":"ünï€😀"}}\n\n{"type":"DELETED","object":{}}\n{"tail":true}';
const bytes = Buffer.from(text, 'utf8');
const expected = ['{"type":"ADDED","object":{"n":"ünï€😀"}}', '{"type":"DELETED","object":{}}', '{"tail":true}'];

function splitAll(chunks: Uint8Array[]): string[] {
  const s = new LineSplitter();
  return [...chunks.flatMap((c) => s.push(c)), ...s.flush()];
}

for (const size of [1, 2, 3, 5, 7, 16, 1000]) {
  test(`lines survive chunks of ${size} bytes, including split multi-byte characters`, (t) => {
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    t.deepEqual(splitAll(chunks), expected);
  });
}

test('every two-way cut point gives the same lines', (t) => {
  for (let cut = 0; cut <= bytes.length; cut++) {
    t.deepEqual(splitAll([bytes.subarray(0, cut), bytes.subarray(cut)]), expected, `cut at ${cut}`);
  }
});

test('CRLF and blank lines are ignored; no trailing partial line without flush', (t) => {
  const s = new LineSplitter();
  t.deepEqual(s.push('{"a":1}\r\n\r\n{"b"'), ['{"a":1}']);
  t.deepEqual(s.push(':2}'), []);
  t.deepEqual(s.flush(), ['{"b":2}']);
  t.deepEqual(s.flush(), []);
});
