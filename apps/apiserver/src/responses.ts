// Writing JSON responses (objects, lists, Status errors).
import type { ServerResponse } from 'node:http';
import type { Status } from '@knet/api';

export function writeJSON(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return; // answered already (the request timed out)
  const text = JSON.stringify(body);
  res.statusCode = code;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function writeStatus(res: ServerResponse, s: Status): void {
  writeJSON(res, s.code, s);
}
