// Bearer tokens in Kubernetes' --token-auth-file format: one CSV record per line,
// `token,user,uid,"group1,group2"` (groups optional). Blank lines and `#` comments are skipped
// when reading (a knet convenience; the writer never emits comments, so Kubernetes reads its output).
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';

export interface TokenEntry {
  token: string;
  user: string;
  uid: string;
  groups: string[];
}

export class TokenFileError extends Error {
  constructor(readonly line: number, readonly detail: string, readonly file?: string) {
    super(`${file ? `${file}:` : 'line '}${line}: ${detail}`);
    this.name = 'TokenFileError';
  }
}

/** 256 random bits, base64url: no character the CSV format would need to quote. */
export function generateToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Splits one CSV line (RFC 4180 quoting, `""` for a quote inside quotes). */
export function parseCsvLine(line: string, lineNo: number): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new TokenFileError(lineNo, 'unterminated quoted field');
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') throw new TokenFileError(lineNo, `unexpected ${JSON.stringify(line[i])} after a quoted field`);
    } else {
      while (i < line.length && line[i] !== ',') {
        if (line[i] === '"') throw new TokenFileError(lineNo, 'bare " in a non-quoted field');
        field += line[i++];
      }
    }
    fields.push(field);
    if (i >= line.length) return fields;
    i++; // the comma
  }
}

export function parseTokenFile(text: string): TokenEntry[] {
  const out: TokenEntry[] = [];
  const seen = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, idx) => {
    const lineNo = idx + 1;
    if (raw.trim() === '' || raw.trimStart().startsWith('#')) return;
    const f = parseCsvLine(raw, lineNo);
    if (f.length < 3) throw new TokenFileError(lineNo, `must have at least 3 columns (token, user name, user uid), found ${f.length}`);
    const [token, user, uid, groups] = f as [string, string, string, string | undefined];
    if (token === '') throw new TokenFileError(lineNo, 'empty token');
    if (user === '') throw new TokenFileError(lineNo, 'empty user name');
    const dup = seen.get(token);
    if (dup !== undefined) throw new TokenFileError(lineNo, `duplicate token (first on line ${dup})`);
    seen.set(token, lineNo);
    out.push({ token, user, uid, groups: groups === undefined ? [] : groups.split(',').filter((g) => g !== '') });
  });
  return out;
}

function quote(v: string, always = false): string {
  return always || /[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v;
}

export function formatTokenFile(entries: TokenEntry[]): string {
  return entries
    .map((e) => {
      for (const [what, v] of [['token', e.token], ['user', e.user], ['uid', e.uid], ...e.groups.map((g) => ['group', g])] as [string, string][]) {
        if (/[\r\n]/.test(v)) throw new Error(`${what} ${JSON.stringify(v)} cannot contain a line break`);
      }
      if (e.groups.some((g) => g.includes(','))) throw new Error(`group names cannot contain a comma: ${JSON.stringify(e.groups)}`);
      const cols = [quote(e.token), quote(e.user), quote(e.uid)];
      if (e.groups.length > 0) cols.push(quote(e.groups.join(','), true));
      return cols.join(',') + '\n';
    })
    .join('');
}

/** Reads and parses a token file; errors name the file and the line. */
export async function readTokenFile(path: string): Promise<TokenEntry[]> {
  const text = await readFile(path, 'utf8');
  try {
    return parseTokenFile(text);
  } catch (err) {
    if (err instanceof TokenFileError) throw new TokenFileError(err.line, err.detail, path);
    throw err;
  }
}
