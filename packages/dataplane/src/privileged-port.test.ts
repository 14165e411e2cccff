import { readFileSync } from 'node:fs';
import { startDataplaneChild } from './test-support/child.js';
import { engineOptions, tcpTest } from './test-support/engines.js';
import { vip } from './test-support/net.js';

tcpTest('a port below 1024 without privilege: EACCES says how to fix it; the other entry still binds', async (t) => {
  const unprivilegedStart = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim());
  // Drop root in the child (as a real unprivileged proxy would run) so the kernel check applies.
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const address = vip();
  const proxy = await startDataplaneChild(
    [
      { key: 'low', address, port: 80, protocol: 'TCP', backends: [] },
      { key: 'high', address, port: 0, protocol: 'UDP', backends: [] },
    ],
    engineOptions(t),
    asUser,
  );
  t.teardown(() => proxy.stop());
  if (unprivilegedStart > 80) {
    t.deepEqual(proxy.result.opened, ['high']);
    t.is(proxy.result.errors.length, 1);
    t.like(proxy.result.errors[0], { key: 'low', reason: 'EACCES' });
    t.is(
      proxy.result.errors[0]!.error,
      `TCP ${address}:80: permission denied (EACCES): ports below 1024 need root or sysctl net.ipv4.ip_unprivileged_port_start=0`,
    );
  } else {
    // This host lets anyone bind low ports: both bind.
    t.deepEqual([...proxy.result.opened].sort(), ['high', 'low']);
  }
});
