import test from 'ava';
import { describeBindError } from './bind-error.js';
import { resolveSettings } from './settings.js';
import type { ServiceEntry } from './types.js';
import { validateEntry } from './validate.js';

const ok: ServiceEntry = {
  key: 'ns/web:80/TCP@127.96.0.5',
  address: '127.96.0.5',
  port: 80,
  protocol: 'TCP',
  backends: [{ address: '127.244.0.2', port: 8080, ready: true, serving: true, terminating: false }],
};

const cases: Array<{ name: string; patch: Record<string, unknown>; want: RegExp | null }> = [
  { name: 'valid', patch: {}, want: null },
  { name: 'valid IPv6 + port 0', patch: { address: '::1', port: 0 }, want: null },
  { name: 'empty key', patch: { key: '' }, want: /key: must be a non-empty string/ },
  { name: 'host name address', patch: { address: 'localhost' }, want: /address: Invalid value: "localhost"/ },
  { name: 'port too big', patch: { port: 65536 }, want: /port: Invalid value: 65536/ },
  { name: 'port fractional', patch: { port: 1.5 }, want: /port: Invalid value: 1.5/ },
  { name: 'SCTP', patch: { protocol: 'SCTP' }, want: /protocol: Unsupported value: "SCTP"/ },
  { name: 'backends not array', patch: { backends: null }, want: /backends: must be an array/ },
  {
    name: 'backend port 0',
    patch: { backends: [{ address: '127.0.0.1', port: 0, ready: true, serving: true, terminating: false }] },
    want: /backends\[0\]\.port: Invalid value: 0/,
  },
  {
    name: 'backend host name',
    patch: { backends: [{ address: 'db', port: 5432, ready: true, serving: true, terminating: false }] },
    want: /backends\[0\]\.address: Invalid value: "db"/,
  },
  { name: 'affinity timeout 0', patch: { affinity: { type: 'ClientIP', timeoutSeconds: 0 } }, want: /timeoutSeconds: Invalid value: 0/ },
  { name: 'affinity timeout > 1 day', patch: { affinity: { type: 'ClientIP', timeoutSeconds: 86401 } }, want: /less than or equal to 86400/ },
  { name: 'affinity type', patch: { affinity: { type: 'None', timeoutSeconds: 10 } }, want: /affinity.type: Unsupported value/ },
  { name: 'proxy protocol v3', patch: { proxyProtocol: 'v3' }, want: /proxyProtocol: Unsupported value: "v3"/ },
  { name: 'UDP + v1', patch: { protocol: 'UDP', proxyProtocol: 'v1' }, want: /v1 has no UDP form/ },
];
for (const c of cases) {
  test(`validateEntry: ${c.name}`, (t) => {
    const errs = validateEntry({ ...ok, ...c.patch } as ServiceEntry);
    if (c.want === null) t.deepEqual(errs, []);
    else t.regex(errs.join('; '), c.want);
  });
}

test('validateEntry: not an object', (t) => {
  t.deepEqual(validateEntry(null as unknown as ServiceEntry), ['entry must be an object']);
});

const e = (code: string, message = `listen ${code}`): Error => Object.assign(new Error(message), { code });
const bindCases: Array<{ err: unknown; port: number; address?: string; reason: string; want: RegExp }> = [
  { err: e('EADDRINUSE'), port: 8080, reason: 'EADDRINUSE', want: /^TCP 127\.96\.0\.5:8080: address already in use \(EADDRINUSE\)/ },
  {
    err: e('EACCES'),
    port: 80,
    reason: 'EACCES',
    want: /ports below 1024 need root or sysctl net\.ipv4\.ip_unprivileged_port_start=0$/,
  },
  { err: e('EACCES'), port: 8080, reason: 'EACCES', want: /^TCP 127\.96\.0\.5:8080: permission denied \(EACCES\)$/ },
  { err: e('EADDRNOTAVAIL'), port: 80, address: 'fd00::5', reason: 'EADDRNOTAVAIL', want: /^TCP \[fd00::5\]:80: address not available/ },
  { err: e('EINVAL', 'bind EINVAL'), port: 80, reason: 'EINVAL', want: /^TCP 127\.96\.0\.5:80: bind EINVAL$/ },
  { err: 'weird', port: 80, reason: 'Unknown', want: /weird/ },
];
for (const c of bindCases) {
  test(`describeBindError: ${c.reason} port ${c.port}`, (t) => {
    const d = describeBindError(c.err, 'TCP', c.address ?? '127.96.0.5', c.port);
    t.is(d.reason, c.reason);
    t.regex(d.error, c.want);
  });
}

test('resolveSettings: defaults and bad values', (t) => {
  t.like(resolveSettings(), { connectTimeoutMs: 3000, maxConnectAttempts: 3, drainMs: 30_000, udpIdleMs: 30_000 });
  t.throws(() => resolveSettings({ maxConnectAttempts: 0 }), { instanceOf: RangeError, message: /maxConnectAttempts/ });
  t.throws(() => resolveSettings({ idleTimeoutMs: Number.NaN }), { instanceOf: RangeError });
});
