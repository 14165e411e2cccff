// Test helpers: run the real `dig` and read its answer; a tiny upstream resolver on 127.0.0.1 for forwarding.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import { promisify } from 'node:util';
import dnsPacket from 'dns-packet';

const run = promisify(execFile);

export interface DigResult {
  status: string;
  flags: string[];
  answer: string[][];
  authority: string[][];
  additional: string[][];
  /** "MSG SIZE  rcvd: N" */
  size: number;
  text: string;
}

/** dig @127.0.0.1 -p port ...args; records come back as [name, ttl, class, type, ...rdata]. */
export async function dig(port: number, ...args: string[]): Promise<DigResult> {
  const { stdout } = await run('dig', ['@127.0.0.1', '-p', String(port), '+tries=1', '+time=3', '+nocookie', ...args], { timeout: 15_000 });
  const res: DigResult = { status: '', flags: [], answer: [], authority: [], additional: [], size: 0, text: stdout };
  let section: 'answer' | 'authority' | 'additional' | null = null;
  for (const line of stdout.split('\n')) {
    const status = /status: (\w+)/.exec(line);
    if (status) res.status = status[1]!;
    const flags = /^;; flags: ([a-z ]+);/.exec(line);
    if (flags) res.flags = flags[1]!.trim().split(/\s+/);
    const size = /MSG SIZE\s+rcvd: (\d+)/.exec(line);
    if (size) res.size = Number(size[1]);
    if (line.startsWith(';; ANSWER SECTION')) section = 'answer';
    else if (line.startsWith(';; AUTHORITY SECTION')) section = 'authority';
    else if (line.startsWith(';; ADDITIONAL SECTION')) section = 'additional';
    else if (line.trim() === '' || line.startsWith(';')) {
      if (line.trim() === '') section = null;
    } else if (section) res[section].push(line.trim().split(/\s+/));
  }
  return res;
}

/** The rdata of the answer records of one type, sorted. */
export function rdata(r: DigResult, type: string): string[] {
  return r.answer
    .filter((rr) => rr[3] === type)
    .map((rr) => rr.slice(4).join(' '))
    .sort();
}

/** Polls fn until it returns true or the deadline passes; returns the last value seen. */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > deadline) return v;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** An upstream resolver answering every A question with `address`, and counting what it was asked. */
export async function startUpstream(address = '127.1.2.3'): Promise<{ port: number; asked: string[]; close(): Promise<void> }> {
  const sock = dgram.createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (msg, rinfo) => {
    let q;
    try {
      q = dnsPacket.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    asked.push(question.name);
    const answers = question.type === 'A' ? [{ name: question.name, type: 'A' as const, ttl: 60, class: 'IN' as const, data: address }] : [];
    const reply = dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE, questions: [question], answers });
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  return { port: sock.address().port, asked, close: () => new Promise<void>((r) => sock.close(() => r())) };
}
