import type { Protocol } from './types.js';

/** What failed to bind and how to fix it, in one line a user can act on. */
export function describeBindError(
  err: unknown,
  protocol: Protocol,
  address: string,
  port: number,
): { reason: string; error: string } {
  const code = typeof err === 'object' && err !== null && 'code' in err ? String((err as { code: unknown }).code) : 'Unknown';
  const where = `${protocol} ${address.includes(':') ? `[${address}]` : address}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return { reason: code, error: `${where}: address already in use (EADDRINUSE): another process or listener holds it` };
    case 'EACCES':
      return {
        reason: code,
        error:
          port > 0 && port < 1024
            ? `${where}: permission denied (EACCES): ports below 1024 need root or sysctl net.ipv4.ip_unprivileged_port_start=0`
            : `${where}: permission denied (EACCES)`,
      };
    case 'EADDRNOTAVAIL':
      return {
        reason: code,
        error: `${where}: address not available on this host (EADDRNOTAVAIL): every 127.0.0.0/8 address is local on Linux; other addresses must be assigned to an interface`,
      };
    default: {
      const msg = err instanceof Error ? err.message : String(err);
      return { reason: code, error: `${where}: ${msg}` };
    }
  }
}
