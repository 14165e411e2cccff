// Request bodies: bounded read (413 past the limit) and JSON decoding (400 on malformed input).
import type { IncomingMessage } from 'node:http';
import { ApiError, errors } from './status.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) {
    req.resume();
    throw new ApiError(errors.tooLarge());
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > limit) {
      req.resume();
      throw new ApiError(errors.tooLarge());
    }
    chunks.push(b);
  }
  return Buffer.concat(chunks);
}

export function decodeJSON(buf: Buffer): unknown {
  const text = buf.toString('utf8');
  if (text.trim() === '') throw new ApiError(errors.badRequest('the body of the request was empty'));
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new ApiError(errors.badRequest(`couldn't get version/kind; json parse error: ${msg}`));
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
