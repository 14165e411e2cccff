// Field-level validation errors, rendered exactly as apimachinery's field.Error does.

export type FieldErrorType =
  | 'FieldValueInvalid'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany';

export interface FieldError {
  type: FieldErrorType;
  /** Field path as Kubernetes prints it, e.g. `spec.ports[0].port`. */
  field: string;
  badValue?: unknown;
  message: string;
}

const typeText: Record<FieldErrorType, string> = {
  FieldValueInvalid: 'Invalid value',
  FieldValueRequired: 'Required value',
  FieldValueDuplicate: 'Duplicate value',
  FieldValueNotSupported: 'Unsupported value',
  FieldValueForbidden: 'Forbidden',
  FieldValueTooLong: 'Too long',
  FieldValueTooMany: 'Too many',
};

/**
 * A badValue printed verbatim (as Go prints a value with String() or %#v),
 * e.g. Kubernetes' `core.ServicePort{...}` for duplicate ports.
 */
export class RawValue {
  constructor(readonly text: string) {}
  toJSON(): string {
    return this.text;
  }
}

/** Marks a badValue that must not be printed (Go's omitValue). */
const omit = Symbol('omitValue');

export function invalid(field: string, value: unknown, detail: string): FieldError {
  return { type: 'FieldValueInvalid', field, badValue: value, message: detail };
}

export function required(field: string, detail = ''): FieldError {
  return { type: 'FieldValueRequired', field, badValue: '', message: detail };
}

export function duplicate(field: string, value: unknown): FieldError {
  return { type: 'FieldValueDuplicate', field, badValue: value, message: '' };
}

export function notSupported(field: string, value: unknown, valid: readonly string[]): FieldError {
  const detail = valid.length > 0 ? 'supported values: ' + valid.map((v) => goQuote(v)).join(', ') : '';
  return { type: 'FieldValueNotSupported', field, badValue: value, message: detail };
}

export function forbidden(field: string, detail: string): FieldError {
  return { type: 'FieldValueForbidden', field, badValue: '', message: detail };
}

export function tooLong(field: string, value: unknown, maxLength: number): FieldError {
  return { type: 'FieldValueTooLong', field, badValue: value, message: `must have at most ${maxLength} bytes` };
}

export function tooMany(field: string, actual: number, max: number): FieldError {
  const message = max >= 0 ? `must have at most ${max} items` : 'has too many items';
  return { type: 'FieldValueTooMany', field, badValue: actual >= 0 ? actual : omit, message };
}

/** The message without the field path (Go's ErrorBody), used for Status causes. */
export function errorBody(e: FieldError): string {
  let s: string;
  switch (e.type) {
    case 'FieldValueRequired':
    case 'FieldValueForbidden':
    case 'FieldValueTooLong':
      s = typeText[e.type];
      break;
    default:
      s = e.badValue === omit ? typeText[e.type] : `${typeText[e.type]}: ${renderValue(e.badValue)}`;
  }
  if (e.message) s += `: ${e.message}`;
  return s;
}

/** `spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive`. */
export function errorString(e: FieldError): string {
  return `${e.field}: ${errorBody(e)}`;
}

/**
 * The aggregate message kube-apiserver prints: one error alone, several in
 * brackets; duplicate messages are dropped as ErrorList.ToAggregate does.
 */
export function aggregateString(errs: readonly FieldError[]): string {
  const msgs = [...new Set(errs.map(errorString))];
  return msgs.length === 1 ? msgs[0]! : `[${msgs.join(', ')}]`;
}

function renderValue(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'string') return goQuote(v);
  if (v instanceof RawValue) return v.text;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  // Go prints structs with %#v; JSON is the readable equivalent for our plain objects.
  try {
    return JSON.stringify(v) ?? 'null';
  } catch {
    return String(v);
  }
}

/** Go's strconv.Quote for the strings we meet (printable Unicode kept as is). */
export function goQuote(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (c === 7) out += '\\a';
    else if (c === 8) out += '\\b';
    else if (c === 12) out += '\\f';
    else if (c === 11) out += '\\v';
    else if (c < 0x20 || c === 0x7f) out += '\\x' + c.toString(16).padStart(2, '0');
    else if (c >= 0x80 && c < 0xa0) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += ch;
  }
  return out + '"';
}

/** Builds a child path the way field.Path does: `spec.ports[0].name`, `metadata.labels[app]`. */
export function child(path: string, ...names: string[]): string {
  return [path, ...names].filter((p) => p !== '').join('.');
}

export function index(path: string, i: number): string {
  return `${path}[${i}]`;
}

export function key(path: string, k: string): string {
  return `${path}[${k}]`;
}
