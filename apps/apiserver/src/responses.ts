// Writing JSON responses (objects, lists, Status errors). Stored objects are not serialized again:
// the store keeps the JSON text it wrote for each (encodeJSON).
import type { ServerResponse } from 'node:http';
import type { Status } from '@knet/api';
import { encodeJSON } from '@knet/store';

/** A list response: `head` (kind, apiVersion, metadata) plus items, encoded from the items' stored text. */
export class ListBody {
  constructor(readonly head: Record<string, unknown>, readonly items: readonly unknown[]) {}
}

/** The response text of a body: JSON.stringify(body), or for a ListBody JSON.stringify({ ...head, items }). */
export function encodeBody(body: unknown): string {
  return body instanceof ListBody ? encodeList(body) : encodeJSON(body);
}

function encodeList(list: ListBody): string {
  const head = JSON.stringify(list.head);
  const items = `"items":[${list.items.map(encodeJSON).join(',')}]}`;
  return head === '{}' ? `{${items}` : `${head.slice(0, -1)},${items}`;
}

export function writeJSON(res: ServerResponse, code: number, body: unknown): void {
  if (res.headersSent) return; // answered already (the request timed out)
  const text = encodeBody(body);
  res.statusCode = code;
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

export function writeStatus(res: ServerResponse, s: Status): void {
  writeJSON(res, s.code, s);
}
