// Prometheus metrics, named as kube-apiserver names its allocator metrics.
import type { Server } from 'node:http';
import { listenHttp } from '@knet/component';
import type { IpamServer } from '@knet/ipam';
import { Gauge, Registry, collectDefaultMetrics } from '@knet/component/prom';

export function ipamRegistry(server: Pick<IpamServer, 'usage'>): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const gauge = (name: string, help: string, pick: 'used' | 'free', kinds: string[]): void => {
    new Gauge({
      name,
      help,
      labelNames: ['cidr'],
      registers: [registry],
      collect() {
        this.reset();
        for (const u of server.usage()) {
          if (kinds.includes(u.kind)) this.set({ cidr: u.range }, pick === 'used' ? u.used : u.size - u.used);
        }
      },
    });
  };
  gauge('kube_apiserver_clusterip_allocator_allocated_ips', 'ClusterIPs allocated, per service CIDR', 'used', ['ClusterIP']);
  gauge('kube_apiserver_clusterip_allocator_available_ips', 'ClusterIPs free, per service CIDR', 'free', ['ClusterIP']);
  gauge('kube_apiserver_nodeport_allocator_allocated_ports', 'NodePorts allocated', 'used', ['NodePort']);
  gauge('kube_apiserver_nodeport_allocator_available_ports', 'NodePorts free', 'free', ['NodePort']);
  gauge('knet_ipam_loadbalancer_allocated_ips', 'LoadBalancer IPs allocated, per pool', 'used', ['LoadBalancerIP']);
  gauge('knet_ipam_loadbalancer_available_ips', 'LoadBalancer IPs free, per pool', 'free', ['LoadBalancerIP']);
  return registry;
}

/** Serves GET /metrics; resolves to the bound server. */
export async function serveMetrics(registry: Registry, address: string): Promise<Server> {
  const colon = address.lastIndexOf(':');
  const host = address.slice(0, colon).replace(/^\[|\]$/g, '');
  const port = Number(address.slice(colon + 1));
  const { server } = await listenHttp(host, port, (req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404).end('not found\n');
      return;
    }
    registry.metrics().then(
      (body) => res.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (err: unknown) => res.writeHead(500).end(String(err)),
    );
  });
  return server;
}
