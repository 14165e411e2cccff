// Label selectors as k8s.io/apimachinery/pkg/labels: the string form
// (`a=b,c!=d,e in (x,y),f notin (z),g,!h`, `==`, `gt`/`lt` via `>`/`<`),
// LabelSelector objects and plain maps. Parsing never throws: bad input gives a SelectorParseError.
import type { LabelSelector } from './meta.js';
import { RawValue, aggregateString, goQuote, invalid, type FieldError } from './field-errors.js';
import { isQualifiedName, isValidLabelValue } from './validation/names.js';
import { SelectorParseError } from './selector-error.js';

export type Operator = '=' | '==' | '!=' | 'in' | 'notin' | 'exists' | '!' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

export interface Selector {
  readonly requirements: readonly Requirement[];
  /** True when the labels satisfy every requirement. */
  matches(labels: Record<string, string> | undefined): boolean;
  /** True for the selector that matches everything. */
  empty(): boolean;
  toString(): string;
}

class RequirementsSelector implements Selector {
  constructor(readonly requirements: readonly Requirement[]) {}
  matches(labels: Record<string, string> | undefined): boolean {
    const l = labels ?? {};
    return this.requirements.every((r) => requirementMatches(r, l));
  }
  empty(): boolean {
    return this.requirements.length === 0;
  }
  toString(): string {
    return this.requirements.map(requirementString).join(',');
  }
}

/** Matches no object: what a nil LabelSelector means. */
class NothingSelector implements Selector {
  readonly requirements: readonly Requirement[] = [];
  matches(): boolean {
    return false;
  }
  empty(): boolean {
    return false;
  }
  toString(): string {
    return '';
  }
}

export const everything = (): Selector => new RequirementsSelector([]);
export const nothing = (): Selector => new NothingSelector();

function requirementMatches(r: Requirement, labels: Record<string, string>): boolean {
  const present = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = labels[r.key];
  switch (r.operator) {
    case '=':
    case '==':
    case 'in':
      return present && r.values.includes(v!);
    case '!=':
    case 'notin':
      return !present || !r.values.includes(v!);
    case 'exists':
      return present;
    case '!':
      return !present;
    case 'gt':
    case 'lt': {
      if (!present || !/^-?\d+$/.test(v!)) return false;
      const have = Number(v);
      const want = Number(r.values[0]);
      return r.operator === 'gt' ? have > want : have < want;
    }
  }
}

function requirementString(r: Requirement): string {
  switch (r.operator) {
    case '!':
      return `!${r.key}`;
    case 'exists':
      return r.key;
    case 'in':
    case 'notin':
      return `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`;
    case 'gt':
      return `${r.key}>${r.values[0]}`;
    case 'lt':
      return `${r.key}<${r.values[0]}`;
    default:
      return `${r.key}${r.operator}${r.values[0]}`;
  }
}

/** Go's %#v of a []string, as Kubernetes prints selector values in errors. */
const goStrings = (vals: string[]): RawValue => new RawValue(`[]string{${vals.map(goQuote).join(', ')}}`);

/** Builds a requirement with Kubernetes' checks (labels.NewRequirement); all problems are reported together. */
export function newRequirement(key: string, operator: Operator, values: string[]): Requirement | SelectorParseError {
  const errs: FieldError[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length) errs.push(invalid('key', key, keyErrs.join('; ')));
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(invalid('values', goStrings(values), "for 'in', 'notin' operators, values set can't be empty"));
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(invalid('values', goStrings(values), 'exact-match compatibility requires one single value'));
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(invalid('values', goStrings(values), 'values set must be empty for exists and does not exist'));
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(invalid('values', goStrings(values), "for 'Gt', 'Lt' operators, exactly one value is required"));
      for (let i = 0; i < values.length; i++) {
        if (!/^-?\d+$/.test(values[i]!)) errs.push(invalid(`values[${i}]`, values[i], "for 'Gt', 'Lt' operators, the value must be an integer"));
      }
      break;
  }
  if (operator !== 'gt' && operator !== 'lt') {
    values.forEach((v, i) => {
      const e = isValidLabelValue(v);
      if (e.length) errs.push(invalid(`values[${i}][${v}]`, v, e.join('; ')));
    });
  }
  if (errs.length) return new SelectorParseError(aggregateString(errs));
  return { key, operator, values: [...new Set(values)] };
}

// ---- lexer -----------------------------------------------------------------

type Tok =
  | 'ident'
  | 'eof'
  | 'comma'
  | 'open'
  | 'close'
  | 'eq'
  | 'deq'
  | 'neq'
  | 'not'
  | 'in'
  | 'notin'
  | 'gt'
  | 'lt'
  | 'error';

interface Token {
  tok: Tok;
  lit: string;
}

const specials = new Set(['=', '!', '(', ')', ',', '>', '<']);
const symbolTokens: Record<string, Tok> = { '=': 'eq', '==': 'deq', '!=': 'neq', '!': 'not', '(': 'open', ')': 'close', ',': 'comma', '>': 'gt', '<': 'lt' };
const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';

function lex(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i]!;
    if (isSpace(c)) {
      i++;
      continue;
    }
    if (specials.has(c)) {
      // Longest known operator starting here.
      let sym = c;
      if (i + 1 < input.length && symbolTokens[c + input[i + 1]!]) sym = c + input[i + 1]!;
      out.push({ tok: symbolTokens[sym]!, lit: sym });
      i += sym.length;
      continue;
    }
    let j = i;
    while (j < input.length && !isSpace(input[j]!) && !specials.has(input[j]!)) j++;
    const word = input.slice(i, j);
    out.push({ tok: word === 'in' ? 'in' : word === 'notin' ? 'notin' : 'ident', lit: word });
    i = j;
  }
  out.push({ tok: 'eof', lit: '' });
  return out;
}

// ---- parser ----------------------------------------------------------------

class Parser {
  private pos = 0;
  constructor(private readonly toks: Token[]) {}
  private peek(): Token {
    return this.toks[this.pos]!;
  }
  private next(): Token {
    const t = this.toks[this.pos]!;
    if (t.tok !== 'eof') this.pos++;
    return t;
  }
  /** In value position, keywords are plain identifiers. */
  private asValue(t: Token): Token {
    return t.tok === 'in' || t.tok === 'notin' ? { tok: 'ident', lit: t.lit } : t;
  }

  parse(): Requirement[] | SelectorParseError {
    const reqs: Requirement[] = [];
    for (;;) {
      const t = this.asValue(this.peek());
      if (t.tok === 'eof') return reqs;
      if (t.tok !== 'ident' && t.tok !== 'not') {
        return new SelectorParseError(`found '${t.lit}', expected: !, identifier, or 'end of string'`);
      }
      const r = this.parseRequirement();
      if (r instanceof SelectorParseError) return new SelectorParseError(`unable to parse requirement: ${r.message}`);
      reqs.push(r);
      const sep = this.next();
      if (sep.tok === 'eof') return reqs;
      if (sep.tok !== 'comma') return new SelectorParseError(`found '${sep.lit}', expected: ',' or 'end of string'`);
      const after = this.asValue(this.peek());
      if (after.tok !== 'ident' && after.tok !== 'not') {
        return new SelectorParseError(`found '${after.lit}', expected: identifier after ','`);
      }
    }
  }

  private parseRequirement(): Requirement | SelectorParseError {
    let negated = false;
    if (this.peek().tok === 'not') {
      this.next();
      negated = true;
    }
    const k = this.asValue(this.next());
    if (k.tok !== 'ident') return new SelectorParseError(`found '${k.lit}', expected: identifier`);
    if (negated) return newRequirement(k.lit, '!', []);
    const la = this.peek();
    if (la.tok === 'eof' || la.tok === 'comma') return newRequirement(k.lit, 'exists', []);
    const op = this.next();
    let operator: Operator;
    switch (op.tok) {
      case 'in':
        operator = 'in';
        break;
      case 'notin':
        operator = 'notin';
        break;
      case 'eq':
        operator = '=';
        break;
      case 'deq':
        operator = '==';
        break;
      case 'neq':
        operator = '!=';
        break;
      case 'gt':
        operator = 'gt';
        break;
      case 'lt':
        operator = 'lt';
        break;
      default:
        return new SelectorParseError(`found '${op.lit}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    let values: string[];
    if (operator === 'in' || operator === 'notin') {
      const open = this.next();
      if (open.tok !== 'open') return new SelectorParseError(`found '${open.lit}', expected: '('`);
      values = [];
      for (;;) {
        const t = this.asValue(this.next());
        if (t.tok === 'close') {
          if (values.length === 0) break;
          // `(a,)` means a trailing empty value, as Kubernetes reads it.
          values.push('');
          break;
        }
        if (t.tok === 'ident') {
          values.push(t.lit);
          const sep = this.next();
          if (sep.tok === 'close') break;
          if (sep.tok !== 'comma') return new SelectorParseError(`found '${sep.lit}', expected: ',' or ')'`);
          continue;
        }
        if (t.tok === 'comma') {
          values.push('');
          continue;
        }
        return new SelectorParseError(`found '${t.lit}', expected: ',', ')' or identifier`);
      }
    } else {
      const t = this.asValue(this.peek());
      if (t.tok === 'eof' || t.tok === 'comma') values = [''];
      else if (t.tok === 'ident') values = [this.next().lit];
      else return new SelectorParseError(`found '${t.lit}', expected: identifier`);
    }
    return newRequirement(k.lit, operator, values);
  }
}

/** Parses the string form; requirements come out sorted by key, as Kubernetes sorts them. */
export function parseLabelSelector(text: string): Selector | SelectorParseError {
  if (typeof text !== 'string') return new SelectorParseError('label selector must be a string');
  const reqs = new Parser(lex(text)).parse();
  if (reqs instanceof SelectorParseError) return reqs;
  return new RequirementsSelector(sortByKey(reqs));
}

const sortByKey = (reqs: Requirement[]): Requirement[] =>
  reqs.map((r, i) => ({ r, i })).sort((a, b) => (a.r.key < b.r.key ? -1 : a.r.key > b.r.key ? 1 : a.i - b.i)).map((x) => x.r);

/** A Service-style selector map; an empty map selects everything. */
export function selectorFromMap(m: Record<string, string> | undefined): Selector {
  const reqs = Object.keys(m ?? {}).sort().map((k) => ({ key: k, operator: '=' as const, values: [m![k]!] }));
  return new RequirementsSelector(reqs);
}

/** metav1.LabelSelectorAsSelector: undefined/null selects nothing, `{}` everything. */
export function labelSelectorFromObject(ls: LabelSelector | null | undefined): Selector | SelectorParseError {
  if (ls == null) return nothing();
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) {
    const r = newRequirement(k, '=', [v]);
    if (r instanceof SelectorParseError) return r;
    reqs.push(r);
  }
  for (const expr of ls.matchExpressions ?? []) {
    const ops: Record<string, Operator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };
    const op = ops[expr.operator];
    if (!op) return new SelectorParseError(`${JSON.stringify(expr.operator)} is not a valid label selector operator`);
    const r = newRequirement(expr.key, op, expr.values ?? []);
    if (r instanceof SelectorParseError) return r;
    reqs.push(r);
  }
  return new RequirementsSelector(sortByKey(reqs));
}

/** labels.FormatLabels: `a=b,c=d` sorted by key, `<none>` when empty. */
export function formatLabels(m: Record<string, string> | undefined): string {
  const keys = Object.keys(m ?? {}).sort();
  return keys.length === 0 ? '<none>' : keys.map((k) => `${k}=${m![k]}`).join(',');
}

