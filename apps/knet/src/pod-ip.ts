// Pod IPs for `knet run`, like CNI's host-local IPAM: one file per IP in a directory, created with
// O_EXCL so two processes can never take the same address; a file whose owner died is reclaimed.
import { mkdirSync, openSync, closeSync, writeSync, readFileSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class PodIPAllocator {
  private readonly first: number;
  private readonly last: number;

  /** `cidr` is the node's IPv4 pod range, e.g. 127.244.0.0/24. */
  constructor(
    private readonly dir: string,
    cidr: string,
  ) {
    const [base, bits] = cidr.split('/');
    const prefix = Number(bits);
    if (!/^\d+\.\d+\.\d+\.\d+$/.test(base) || !(prefix >= 8 && prefix <= 30)) {
      throw new Error(`invalid pod range "${cidr}": expected an IPv4 CIDR between /8 and /30`);
    }
    const size = 2 ** (32 - prefix);
    const network = ipv4ToInt(base) - (ipv4ToInt(base) % size);
    // Skip the network address and .1 (the gateway in CNI's host-local), and broadcast.
    this.first = network + 2;
    this.last = network + size - 2;
    mkdirSync(dir, { recursive: true });
  }

  /**
   * Takes a free IP for `owner` (a pod key); the current process holds it until release. The search
   * starts `offset` addresses into the range and wraps around (default: the first address first).
   */
  allocate(owner: string, offset = 0): string {
    const size = this.last - this.first + 1;
    for (let i = 0; i < size; i++) {
      const ip = intToIpv4(this.first + ((offset + i) % size));
      if (this.tryTake(ip, owner)) return ip;
    }
    throw new Error(`the pod range is full (${this.last - this.first + 1} addresses in use); stop some pods with Ctrl-C`);
  }

  release(ip: string): void {
    rmSync(join(this.dir, ip), { force: true });
  }

  inUse(): string[] {
    return readdirSync(this.dir).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f));
  }

  private tryTake(ip: string, owner: string): boolean {
    const file = join(this.dir, ip);
    if (this.create(file, owner)) return true;
    // Held: reclaim it only if its holder died, under a lock so two reclaimers cannot both win.
    return this.withLock(() => {
      if (this.holderAlive(file)) return false;
      rmSync(file, { force: true });
      return this.create(file, owner);
    });
  }

  private create(file: string, owner: string): boolean {
    try {
      const fd = openSync(file, 'wx');
      writeSync(fd, `${process.pid} ${owner}\n`);
      closeSync(fd);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  private holderAlive(file: string): boolean {
    try {
      const holder = Number(readFileSync(file, 'utf8').split(' ')[0]);
      // A file being written right now may still be empty: treat it as held.
      return !holder || alive(holder);
    } catch {
      return false;
    }
  }

  private withLock<T>(fn: () => T): T {
    const lock = join(this.dir, '.lock');
    const deadline = Date.now() + 5_000;
    while (!this.create(lock, 'lock')) {
      if (Date.now() > deadline || !this.holderAlive(lock)) rmSync(lock, { force: true });
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
    try {
      return fn();
    } finally {
      rmSync(lock, { force: true });
    }
  }
}
