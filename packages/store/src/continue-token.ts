// The continue token of a paged list, shaped like Kubernetes' own:
// base64url JSON {"v":"meta.k8s.io/v1","rv":<list RV>,"start":<last key returned>}.

import { StoreError } from './errors.js';

export interface ContinuePoint {
  rv: number;
  /** The namespace/name key of the last item returned; the next page starts after it. */
  after: string;
}

const VERSION = 'meta.k8s.io/v1';

export function encodeContinue(point: ContinuePoint): string {
  return Buffer.from(JSON.stringify({ v: VERSION, rv: point.rv, start: point.after })).toString('base64url');
}

/** Tokens we cannot read are treated as expired: the client's remedy (relist) is the same. */
export function decodeContinue(token: string): ContinuePoint {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const p = parsed as { v?: unknown; rv?: unknown; start?: unknown } | undefined;
  if (
    p === undefined ||
    p === null ||
    typeof p !== 'object' ||
    p.v !== VERSION ||
    typeof p.rv !== 'number' ||
    !Number.isSafeInteger(p.rv) ||
    p.rv < 0 ||
    typeof p.start !== 'string'
  ) {
    throw new StoreError('Gone', 'continue key is not valid: the provided continue parameter could not be decoded');
  }
  return { rv: p.rv, after: p.start };
}
