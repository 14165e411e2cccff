// A small undici client for the integration tests (JSON in, status + JSON out).
import { request } from 'undici';

export interface Reply<T = any> { status: number; headers: Record<string, string | string[] | undefined>; body: T; text: string }

export async function call<T = any>(url: string, method: string, path: string, body?: unknown,
  headers: Record<string, string> = {}): Promise<Reply<T>> {
  const payload = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
  const r = await request(url + path, {
    method: method as 'GET',
    headers: { ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
    ...(payload !== undefined ? { body: payload } : {}),
  });
  const text = await r.body.text();
  let parsed: unknown = text;
  try { parsed = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.statusCode, headers: r.headers, body: parsed as T, text };
}

export function client(url: string) {
  return {
    get: <T = any>(p: string, h?: Record<string, string>) => call<T>(url, 'GET', p, undefined, h),
    post: <T = any>(p: string, b: unknown, h?: Record<string, string>) => call<T>(url, 'POST', p, b, h),
    put: <T = any>(p: string, b: unknown, h?: Record<string, string>) => call<T>(url, 'PUT', p, b, h),
    patch: <T = any>(p: string, b: unknown, type: string) => call<T>(url, 'PATCH', p, b, { 'content-type': type }),
    del: <T = any>(p: string, b?: unknown) => call<T>(url, 'DELETE', p, b),
  };
}

/** Reads newline-delimited watch events until `until` returns true or the deadline passes. */
export async function watchEvents(url: string, path: string, until: (events: any[]) => boolean,
  opts: { headers?: Record<string, string>; timeoutMs?: number; onOpen?: () => Promise<void> } = {}): Promise<any[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 15_000);
  const events: any[] = [];
  try {
    const r = await request(url + path, { method: 'GET', signal: ac.signal, ...(opts.headers ? { headers: opts.headers } : {}) });
    if (r.statusCode !== 200) throw new Error(`watch ${path}: ${r.statusCode} ${await r.body.text()}`);
    if (opts.onOpen) void opts.onOpen();
    let buf = '';
    for await (const chunk of r.body) {
      buf += (chunk as Buffer).toString('utf8');
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buf.slice(0, i)));
        buf = buf.slice(i + 1);
      }
      if (until(events)) break;
    }
    return events;
  } catch (err) {
    if (ac.signal.aborted) return events;
    throw err;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}
