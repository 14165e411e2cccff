import test from 'ava';
import { formatLabels, labelSelectorFromObject, parseLabelSelector, selectorFromMap, SelectorParseError, type Selector } from './index.js';

const labels = { app: 'web', tier: 'front', env: 'prod', version: '3' };

const matchCases: [string, boolean][] = [
  ['', true],
  ['app=web', true],
  ['app==web', true],
  ['app=db', false],
  ['app!=db', true],
  ['missing!=x', true],
  ['app!=web', false],
  ['env in (prod,staging)', true],
  ['env in (staging)', false],
  ['missing in (x)', false],
  ['env notin (staging, dev)', true],
  ['env notin (prod)', false],
  ['missing notin (x)', true],
  ['app', true],
  ['missing', false],
  ['!missing', true],
  ['!app', false],
  ['app=web,tier=front,!canary', true],
  ['app=web,tier=back', false],
  ['  app = web ,  env in ( prod )  ', true],
  ['version>2', true],
  ['version<3', false],
  ['app=', false],
  ['in=x', false],
];
for (const [text, want] of matchCases) {
  test(`label selector matches: ${JSON.stringify(text)}`, (t) => {
    const sel = parseLabelSelector(text);
    if (sel instanceof SelectorParseError) return t.fail(sel.message);
    t.is(sel.matches(labels), want);
  });
}

const errorCases: [string, string][] = [
  ['app=web,', "found '', expected: identifier after ','"],
  [',app', "found ',', expected: !, identifier, or 'end of string'"],
  ['app in x', "unable to parse requirement: found 'x', expected: '('"],
  ['app in ()', "unable to parse requirement: values: Invalid value: []string{}: for 'in', 'notin' operators, values set can't be empty"],
  ['app web', "unable to parse requirement: found 'web', expected: in, notin, =, ==, !=, gt, lt"],
  ['app=(', "unable to parse requirement: found '(', expected: identifier"],
  ['!', "unable to parse requirement: found '', expected: identifier"],
  ['a/b/c=x', 'unable to parse requirement: key: Invalid value: "a/b/c": a qualified name must consist of'],
  ['app=bad value', "found 'value', expected: ',' or 'end of string'"],
  ['app=-bad', 'unable to parse requirement: values[0][-bad]: Invalid value: "-bad": a valid label must be'],
  ['A/b/c in (-x)', 'unable to parse requirement: [key: Invalid value: "A/b/c": a qualified name must consist of'],
  ['version>x', "unable to parse requirement: values[0]: Invalid value: \"x\": for 'Gt', 'Lt' operators, the value must be an integer"],
];
for (const [text, want] of errorCases) {
  test(`label selector error: ${JSON.stringify(text)}`, (t) => {
    const sel = parseLabelSelector(text);
    t.true(sel instanceof SelectorParseError);
    const e = sel as SelectorParseError;
    t.true(e.message.startsWith(want), e.message);
    t.is(e.status.code, 400);
    t.is(e.status.reason, 'BadRequest');
    t.is(e.status.message, e.message);
  });
}

test('label selector: canonical string form sorted by key', (t) => {
  const sel = parseLabelSelector('z=1,a in (y,x),!b,c') as Selector;
  t.is(sel.toString(), 'a in (x,y),!b,c,z=1');
  t.true((parseLabelSelector('') as Selector).empty());
});

test('selectorFromMap: equality on every key; empty selects everything', (t) => {
  t.true(selectorFromMap({ app: 'web', env: 'prod' }).matches(labels));
  t.false(selectorFromMap({ app: 'web', env: 'dev' }).matches(labels));
  t.true(selectorFromMap({}).matches({}));
  t.is(selectorFromMap({ b: '2', a: '1' }).toString(), 'a=1,b=2');
});

test('labelSelectorFromObject: matchLabels and matchExpressions; null selects nothing', (t) => {
  const sel = labelSelectorFromObject({
    matchLabels: { app: 'web' },
    matchExpressions: [
      { key: 'env', operator: 'In', values: ['prod'] },
      { key: 'canary', operator: 'DoesNotExist' },
      { key: 'tier', operator: 'Exists' },
      { key: 'version', operator: 'NotIn', values: ['1'] },
    ],
  }) as Selector;
  t.true(sel.matches(labels));
  t.false(sel.matches({ ...labels, canary: 'yes' }));
  t.false((labelSelectorFromObject(undefined) as Selector).matches(labels));
  t.true((labelSelectorFromObject({}) as Selector).matches(labels));
  const bad = labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Near' as 'In', values: ['x'] }] });
  t.true(bad instanceof SelectorParseError);
  t.is((bad as SelectorParseError).message, '"Near" is not a valid label selector operator');
  t.true(labelSelectorFromObject({ matchExpressions: [{ key: 'a', operator: 'Exists', values: ['x'] }] }) instanceof SelectorParseError);
});

test('formatLabels', (t) => {
  t.is(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  t.is(formatLabels({}), '<none>');
  t.is(formatLabels(undefined), '<none>');
});
