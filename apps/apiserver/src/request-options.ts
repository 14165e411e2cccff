// Query parameters and DeleteOptions shared by the REST verbs, parsed with 400s for bad values.
import { randomBytes } from 'node:crypto';
import { decodeJSON, isPlainObject } from './body.js';
import { ApiError, errors } from './status.js';

export interface DeleteOptions { dryRun: boolean; gracePeriodSeconds?: number; preconditions?: { uid?: string; resourceVersion?: string } }

/** DeleteOptions from a DELETE body; typed clients may send protobuf, whose options are not honoured. */
export function parseDeleteOptions(buf: Buffer, isProtobuf: boolean): DeleteOptions {
  if (isProtobuf || buf.length === 0 || buf.toString('utf8').trim() === '') return { dryRun: false };
  const body = decodeJSON(buf);
  if (!isPlainObject(body)) throw new ApiError(errors.badRequest('DeleteOptions must be a JSON object'));
  const dryRun = Array.isArray(body['dryRun']) && body['dryRun'].includes('All');
  const p = body['preconditions'];
  if (p !== undefined && p !== null && !isPlainObject(p)) throw new ApiError(errors.badRequest('preconditions must be an object'));
  const out: DeleteOptions = { dryRun };
  const grace = body['gracePeriodSeconds'];
  if (grace !== undefined && grace !== null) {
    if (typeof grace !== 'number' || !Number.isInteger(grace) || grace < 0) {
      throw new ApiError(errors.badRequest(`gracePeriodSeconds: Invalid value: ${JSON.stringify(grace)}: must be a non-negative integer`));
    }
    out.gracePeriodSeconds = grace;
  }
  if (isPlainObject(p)) {
    out.preconditions = {};
    if (typeof p['uid'] === 'string' && p['uid']) out.preconditions.uid = p['uid'];
    if (typeof p['resourceVersion'] === 'string' && p['resourceVersion']) out.preconditions.resourceVersion = p['resourceVersion'];
  }
  return out;
}

export function parseDryRun(q: URLSearchParams): boolean {
  const v = q.getAll('dryRun');
  if (v.length === 0) return false;
  for (const x of v) {
    if (x !== 'All') throw new ApiError(errors.badRequest(`dryRun: Unsupported value: "${x}": supported values: "All"`));
  }
  return true;
}

export function parseNonNegativeInt(v: string | null, name: string): number | undefined {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new ApiError(errors.badRequest(`${name}: Invalid value: "${v}": must be a non-negative integer`));
  return Number(v);
}

/** generateName: the prefix plus 5 characters from Kubernetes' alphabet (no vowels, no look-alikes). */
export function generatedName(prefix: string): string {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  return prefix + [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
}
