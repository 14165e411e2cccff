import test from 'ava';
import type { ServiceStats } from '@knet/dataplane';
import { proxyMetrics, serviceMetricsText } from './metrics.js';

const stat = (over: Partial<ServiceStats>): ServiceStats => ({
  key: 'default/web:http/TCP@127.0.0.5:80',
  protocol: 'TCP',
  address: '127.0.0.5',
  port: 80,
  labels: { namespace: 'default', service: 'web', port: 'http', kind: 'ClusterIP' },
  connections: 3,
  active: 1,
  bytesIn: 10,
  bytesOut: 20,
  failures: 0,
  connectErrors: 2,
  udpPackets: 0,
  ...over,
});

test('per-listener series: one line per listener and family, label values escaped', (t) => {
  const text = serviceMetricsText(
    new Map([
      ['a', stat({})],
      ['b', stat({ key: 'b', address: '::1', port: 53, protocol: 'UDP', udpPackets: 7, labels: { namespace: 'x"y', service: 'a\\b', port: 'dns\n', kind: 'ClusterIP' } })],
    ]),
  );
  const lines = text.trimEnd().split('\n');
  t.is(lines.length, 7 * (2 + 2)); // 7 families: HELP, TYPE and two series each
  t.true(text.endsWith('\n'));
  t.true(lines.includes('# TYPE knet_proxy_service_active_connections gauge'));
  t.true(lines.includes('knet_proxy_service_connections_total{namespace="default",service="web",port="http",kind="ClusterIP",protocol="TCP",address="127.0.0.5:80"} 3'));
  t.true(lines.includes('knet_proxy_service_connect_errors_total{namespace="default",service="web",port="http",kind="ClusterIP",protocol="TCP",address="127.0.0.5:80"} 2'));
  t.true(lines.includes('knet_proxy_service_udp_packets_total{namespace="x\\"y",service="a\\\\b",port="dns\\n",kind="ClusterIP",protocol="UDP",address="::1:53"} 7'));
});

test('no listeners: the families are still described, with no series', (t) => {
  const text = serviceMetricsText(new Map());
  t.is(text.trimEnd().split('\n').length, 14);
  t.false(/\{/.test(text));
});

test('the registry and the per-listener text together: every family once', async (t) => {
  const m = proxyMetrics(() => new Map([['a', stat({})]]));
  m.queued();
  const body = (await m.registry.metrics()) + m.serviceText();
  t.is(body.match(/^# TYPE knet_proxy_service_bytes_in_total counter$/gm)?.length, 1);
  t.regex(body, /^kubeproxy_sync_proxy_rules_last_queued_timestamp_seconds \d/m);
  t.regex(body, /^knet_proxy_service_bytes_out_total\{.*\} 20$/m);
});
