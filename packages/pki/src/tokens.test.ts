import test from 'ava';
import { formatTokenFile, generateToken, parseTokenFile, TokenFileError } from './tokens.js';

const ok: [string, string, ReturnType<typeof parseTokenFile>][] = [
  ['three columns', 'abc,alice,1\n', [{ token: 'abc', user: 'alice', uid: '1', groups: [] }]],
  ['quoted groups', 'abc,alice,1,"g1,g2"', [{ token: 'abc', user: 'alice', uid: '1', groups: ['g1', 'g2'] }]],
  ['one unquoted group', 'abc,alice,1,g1', [{ token: 'abc', user: 'alice', uid: '1', groups: ['g1'] }]],
  ['comments and blank lines', '# knet tokens\n\n  \nabc,alice,1\r\n# x\ndef,bob,2,""\n', [
    { token: 'abc', user: 'alice', uid: '1', groups: [] },
    { token: 'def', user: 'bob', uid: '2', groups: [] },
  ]],
  ['escaped quote in a field', 'abc,"al""ice",1', [{ token: 'abc', user: 'al"ice', uid: '1', groups: [] }]],
  ['comma in a quoted user', 'abc,"a,b",1', [{ token: 'abc', user: 'a,b', uid: '1', groups: [] }]],
  ['empty uid', 'abc,alice,', [{ token: 'abc', user: 'alice', uid: '', groups: [] }]],
];
for (const [name, text, want] of ok) {
  test(`parseTokenFile: ${name}`, (t) => t.deepEqual(parseTokenFile(text), want));
}

const bad: [string, string, RegExp][] = [
  ['too few columns', 'a,b,c\nabc,alice\n', /^line 2: must have at least 3 columns \(token, user name, user uid\), found 2$/],
  ['unterminated quote', 'abc,alice,1,"g1', /^line 1: unterminated quoted field$/],
  ['garbage after quote', 'abc,"alice"x,1', /^line 1: unexpected "x" after a quoted field$/],
  ['bare quote', 'abc,al"ice,1', /^line 1: bare " in a non-quoted field$/],
  ['empty token', '\n,alice,1', /^line 2: empty token$/],
  ['empty user', 'abc,,1', /^line 1: empty user name$/],
  ['duplicate token', 'abc,alice,1\n#\nabc,bob,2', /^line 3: duplicate token \(first on line 1\)$/],
];
for (const [name, text, want] of bad) {
  test(`parseTokenFile rejects: ${name}`, (t) => {
    const err = t.throws(() => parseTokenFile(text), { instanceOf: TokenFileError });
    t.regex(err!.message, want);
  });
}

test('formatTokenFile round-trips and quotes the groups column as Kubernetes documents it', (t) => {
  const entries = [
    { token: generateToken(), user: 'kubernetes-admin', uid: 'admin', groups: ['system:masters'] },
    { token: generateToken(), user: 'weird,"name"', uid: 'u', groups: [] },
    { token: generateToken(), user: 'multi', uid: 'm', groups: ['a', 'b'] },
  ];
  const text = formatTokenFile(entries);
  t.true(text.startsWith(`${entries[0]!.token},kubernetes-admin,admin,"system:masters"\n`));
  t.true(text.includes(`,"weird,""name""",u\n`));
  t.deepEqual(parseTokenFile(text), entries);
  t.throws(() => formatTokenFile([{ token: 't', user: 'u', uid: 'u', groups: ['a,b'] }]), { message: /cannot contain a comma/ });
});

test('generateToken: long, random, CSV-safe', (t) => {
  const a = generateToken();
  t.regex(a, /^[A-Za-z0-9_-]{43}$/);
  t.not(a, generateToken());
});
