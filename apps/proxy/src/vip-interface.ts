// --vip-interface: on a real host a VIP must be a local address before the proxy can bind it. As kube-proxy's
// IPVS mode does with kube-ipvs0, each VIP goes on a dedicated (dummy) interface and comes off when unused.
// The interface belongs to the proxy: addresses on it that no Service wants are removed.
import { execFile } from 'node:child_process';
import { ipFamily } from './addresses.js';

/** Runs a command with optional stdin; resolves to stdout, rejects with stderr. */
export type Exec = (cmd: string, args: string[], input?: string) => Promise<string>;

const execIp: Exec = (cmd, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 60_000, maxBuffer: 64 * 2 ** 20 }, (err, stdout, stderr) =>
      err ? reject(new Error(`${cmd} ${args.join(' ')}: ${stderr.trim() || err.message}`)) : resolve(stdout),
    );
    // `ip` may exit before reading stdin (always, for `show`): a broken pipe there is not our error.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
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

  /**
   * Makes the device hold exactly `want`, in one `ip -batch` whatever the number of VIPs; what still differs
   * afterwards is logged per address. Never throws.
   */
  async sync(want: ReadonlySet<string>): Promise<void> {
    const current = await this.read();
    if (current === undefined) return;
    const { add, remove } = vipChanges(current, want);
    if (add.length + remove.length === 0) return;
    const line = (op: string, ip: string) => `addr ${op} ${ip}/${ipFamily(ip) === 6 ? 128 : 32} dev ${this.dev}`;
    const batch = [...add.map((ip) => line('add', ip)), ...remove.map((ip) => line('del', ip))].join('\n') + '\n';
    let failure = '';
    try {
      // -force: one bad line does not stop the others.
      await this.exec('ip', ['-force', '-batch', '-'], batch);
    } catch (err) {
      failure = String(err);
    }
    const after = (await this.read()) ?? current;
    const left = vipChanges(after, want);
    for (const ip of add) if (!left.add.includes(ip)) this.log.info({ dev: this.dev, ip }, 'VIP added');
    for (const ip of remove) if (!left.remove.includes(ip)) this.log.info({ dev: this.dev, ip }, 'VIP removed');
    if (left.add.length + left.remove.length > 0) {
      this.log.warn(
        { dev: this.dev, notAdded: left.add, notRemoved: left.remove, err: failure },
        `ip addr failed for some VIPs on ${this.dev} (the proxy needs CAP_NET_ADMIN for --vip-interface)`,
      );
    }
  }

  private async read(): Promise<Set<string> | undefined> {
    try {
      return parseIpAddrShow(await this.exec('ip', ['-o', 'addr', 'show', 'dev', this.dev]));
    } catch (err) {
      this.log.warn({ dev: this.dev, err: String(err) }, `cannot read --vip-interface ${this.dev}; create it with: ip link add ${this.dev} type dummy && ip link set ${this.dev} up`);
      return undefined;
    }
  }
}
