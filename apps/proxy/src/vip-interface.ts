// --vip-interface: on a real host a VIP must be a local address before the proxy can bind it. As kube-proxy's
// IPVS mode does with kube-ipvs0, each VIP goes on a dedicated (dummy) interface and comes off when unused.
// The interface belongs to the proxy: addresses on it that no Service wants are removed.
import { execFile } from 'node:child_process';
import { ipFamily } from './addresses.js';

export type Exec = (cmd: string, args: string[]) => Promise<string>;

const execIp: Exec = (cmd, args) =>
  new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: 10_000 }, (err, stdout, stderr) => (err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout)));
  });

/** What to run to go from `current` to `want` addresses on `dev` (pure). */
export function vipChanges(current: ReadonlySet<string>, want: ReadonlySet<string>): { add: string[]; remove: string[] } {
  return {
    add: [...want].filter((ip) => !current.has(ip)).sort(),
    remove: [...current].filter((ip) => !want.has(ip)).sort(),
  };
}

/** Addresses in `ip -o addr show dev X` output. */
export function parseIpAddrShow(out: string): Set<string> {
  const ips = new Set<string>();
  for (const m of out.matchAll(/\binet6?\s+([0-9a-fA-F.:]+)\/\d+/g)) if (!m[1]!.toLowerCase().startsWith('fe80:')) ips.add(m[1]!);
  return ips;
}

export interface VipLogger {
  info(o: object, msg?: string): void;
  warn(o: object, msg?: string): void;
}

export class VipInterface {
  constructor(
    readonly dev: string,
    private readonly log: VipLogger,
    private readonly exec: Exec = execIp,
  ) {}

  /** Makes the device hold exactly `want`; failures are logged per address and never thrown. */
  async sync(want: ReadonlySet<string>): Promise<void> {
    let current: Set<string>;
    try {
      current = parseIpAddrShow(await this.exec('ip', ['-o', 'addr', 'show', 'dev', this.dev]));
    } catch (err) {
      this.log.warn({ dev: this.dev, err: String(err) }, `cannot read --vip-interface ${this.dev}; create it with: ip link add ${this.dev} type dummy && ip link set ${this.dev} up`);
      return;
    }
    const { add, remove } = vipChanges(current, want);
    for (const ip of add) await this.run('add', ip);
    for (const ip of remove) await this.run('del', ip);
  }

  private async run(op: 'add' | 'del', ip: string): Promise<void> {
    const prefix = ipFamily(ip) === 6 ? 128 : 32;
    try {
      await this.exec('ip', ['addr', op, `${ip}/${prefix}`, 'dev', this.dev]);
      this.log.info({ dev: this.dev, ip, op }, op === 'add' ? 'VIP added' : 'VIP removed');
    } catch (err) {
      this.log.warn({ dev: this.dev, ip, op, err: String(err) }, `ip addr ${op} failed (the proxy needs CAP_NET_ADMIN for --vip-interface)`);
    }
  }
}
