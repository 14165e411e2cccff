// Docker-links style Service environment variables, as the kubelet renders them
// (pkg/kubelet/envvars/envvars.go and Kubelet.getServiceEnvVarMap).
import type { Service } from './core.js';
import { isServiceIPSet } from './service-helpers.js';

/** `redis-primary` → `REDIS_PRIMARY`. */
export function envVarName(name: string): string {
  return name.replace(/-/g, '_').toUpperCase();
}

const joinHostPort = (ip: string, port: number): string => (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`);

/**
 * Variables for each Service with a cluster IP (headless and ExternalName Services are
 * skipped), in input order; a later Service with the same name overwrites an earlier one.
 */
export function serviceEnvVars(services: readonly Service[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const ports = svc.spec.ports ?? [];
    const ip = svc.spec.clusterIP!;
    const prefix = envVarName(svc.metadata?.name ?? '');
    out[`${prefix}_SERVICE_HOST`] = ip;
    if (ports.length === 0) continue;
    out[`${prefix}_SERVICE_PORT`] = String(ports[0]!.port);
    for (const p of ports) {
      if (p.name) out[`${prefix}_SERVICE_PORT_${envVarName(p.name)}`] = String(p.port);
    }
    ports.forEach((p, i) => {
      const protocol = p.protocol || 'TCP';
      const url = `${protocol.toLowerCase()}://${joinHostPort(ip, p.port)}`;
      if (i === 0) out[`${prefix}_PORT`] = url;
      const pp = `${prefix}_PORT_${p.port}_${protocol.toUpperCase()}`;
      out[pp] = url;
      out[`${pp}_PROTO`] = protocol.toLowerCase();
      out[`${pp}_PORT`] = String(p.port);
      out[`${pp}_ADDR`] = ip;
    });
  }
  return out;
}

/**
 * The kubelet's choice of Services for a Pod in `namespace`: those of its namespace when
 * enableServiceLinks is true (the default), plus the `kubernetes` Service of `default` always.
 */
export function serviceEnvVarsForPod(
  namespace: string,
  services: readonly Service[],
  enableServiceLinks = true,
): Record<string, string> {
  const chosen = new Map<string, Service>();
  for (const svc of services) {
    if (!isServiceIPSet(svc)) continue;
    const name = svc.metadata?.name ?? '';
    if (svc.metadata?.namespace === 'default' && name === 'kubernetes') {
      if (!chosen.has(name)) chosen.set(name, svc);
    } else if (svc.metadata?.namespace === namespace && enableServiceLinks) {
      chosen.set(name, svc);
    }
  }
  return serviceEnvVars([...chosen.values()]);
}
