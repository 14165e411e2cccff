import test from 'ava';
import { cloneJSON } from './json-clone.js';

const deepFreeze = <T>(v: T): T => {
  if (v !== null && typeof v === 'object') {
    Object.freeze(v);
    for (const c of Object.values(v)) deepFreeze(c);
  }
  return v;
};

const cases: [string, unknown][] = [
  ['scalars', [null, true, false, 0, -1.5, 1e21, '', 'é😀\u2028']],
  ['a Pod', JSON.parse('{"metadata":{"name":"p","labels":{"app":"web"}},"spec":{"containers":[{"name":"c","ports":[{"containerPort":80}]}]},"status":{"conditions":[]}}')],
  ['integer-like keys keep their order', JSON.parse('{"b":1,"10":2,"a":{"2":[],"1":{}}}')],
  ['a "__proto__" key stays data', JSON.parse('{"__proto__":{"polluted":true},"x":1}')],
  ['undefined values, as an object being prepared has them', { a: undefined, b: [undefined, 1] }],
];
for (const [name, value] of cases) {
  test(`cloneJSON: ${name}`, (t) => {
    const frozen = deepFreeze(structuredClone(value));
    const copy = cloneJSON(frozen);
    t.deepEqual(copy, structuredClone(value));
    t.is(JSON.stringify(copy), JSON.stringify(value));
    if (value !== null && typeof value === 'object') {
      t.not(copy, frozen);
      t.false(Object.isFrozen(copy), 'a copy of a stored (frozen) object can be changed');
      t.is(Object.getPrototypeOf(copy), Object.getPrototypeOf(value));
    }
  });
}

test('cloneJSON: the copy shares nothing with the original', (t) => {
  const orig = { a: { b: [{ c: 1 }] } };
  const copy = cloneJSON(orig);
  copy.a.b[0]!.c = 2;
  t.is(orig.a.b[0]!.c, 1);
  t.false(Object.hasOwn({}, 'polluted'));
});
