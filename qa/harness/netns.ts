/**
 * A private network of Linux network namespaces for cluster tests (root only): one namespace per
 * node, each with a veth pair into a bridge in the test's namespace, addresses 10.<a>.<b>.<i>/24
 * (the bridge, where the test's clients live, is .254). A partition isolates nodes from each
 * other with blackhole routes inside the namespaces: packets between the two sides are dropped at
 * the sender (connections fail at once, as a cut cable looks to a node after its keepalive), while
 * the test still reaches every node through the bridge. Names carry a random tag so concurrent
 * runs do not collide; `destroy` removes everything (and a crashed run's leftovers are only
 * namespaces and links named strata-*).
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();

/** Whether this process may create namespaces, veth pairs and bridges (root with iproute2). */
export function netnsAvailable(): { ok: boolean; why: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root' };
  const probe = `strata-p${randomBytes(2).toString('hex')}`;
  try {
    ip('netns', 'add', probe);
    ip('netns', 'del', probe);
    return { ok: true, why: '' };
  } catch (e) {
    return { ok: false, why: `ip netns: ${String(e)}` };
  }
}

export class NetnsNetwork {
  private readonly blackholes: { ns: string; to: string }[] = [];

  private constructor(
    readonly tag: string,
    readonly subnet: string,
    readonly size: number,
  ) {}

  get bridge(): string {
    return `strbr-${this.tag}`;
  }

  ns(i: number): string {
    return `strata-${this.tag}-n${i}`;
  }

  host(i: number): string {
    return `${this.subnet}.${i}`;
  }

  get hosts(): string[] {
    return Array.from({ length: this.size }, (_, i) => this.host(i + 1));
  }

  /** The command prefix that runs a process inside node i's namespace (`ip netns exec` execs in place). */
  wrap(i: number): string[] {
    return ['ip', 'netns', 'exec', this.ns(i)];
  }

  static create(size: number): NetnsNetwork {
    const tag = randomBytes(2).toString('hex');
    const routes = ip('-4', 'route', 'show');
    let subnet = '';
    for (let attempt = 0; attempt < 50 && !subnet; attempt++) {
      const s = `10.${77 + (randomBytes(1)[0] as number) % 100}.${(randomBytes(1)[0] as number) % 250}`;
      if (!routes.includes(`${s}.`)) subnet = s;
    }
    if (!subnet) throw new Error('no free 10.x.y.0/24 subnet for the test network');
    const n = new NetnsNetwork(tag, subnet, size);
    try {
      ip('link', 'add', n.bridge, 'type', 'bridge');
      ip('addr', 'add', `${subnet}.254/24`, 'dev', n.bridge);
      ip('link', 'set', n.bridge, 'up');
      for (let i = 1; i <= size; i++) {
        const ns = n.ns(i);
        const outer = `stv${i}-${tag}`;
        const inner = `sti${i}-${tag}`;
        ip('netns', 'add', ns);
        ip('link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
        ip('link', 'set', inner, 'netns', ns);
        ip('link', 'set', outer, 'master', n.bridge);
        ip('link', 'set', outer, 'up');
        ip('-n', ns, 'addr', 'add', `${n.host(i)}/24`, 'dev', inner);
        ip('-n', ns, 'link', 'set', inner, 'up');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
      }
    } catch (e) {
      n.destroy();
      throw e;
    }
    return n;
  }

  /** Cuts every node in `side` off from every node outside it (both directions). */
  partition(side: number[]): void {
    for (let i = 1; i <= this.size; i++) {
      for (let j = 1; j <= this.size; j++) {
        if (i === j || side.includes(i) === side.includes(j)) continue;
        ip('-n', this.ns(i), 'route', 'add', 'blackhole', `${this.host(j)}/32`);
        this.blackholes.push({ ns: this.ns(i), to: `${this.host(j)}/32` });
      }
    }
  }

  heal(): void {
    for (const b of this.blackholes.splice(0)) {
      try {
        ip('-n', b.ns, 'route', 'del', 'blackhole', b.to);
      } catch {
        // already gone
      }
    }
  }

  destroy(): void {
    for (let i = 1; i <= this.size; i++) {
      try {
        ip('netns', 'del', this.ns(i));
      } catch {
        // not created
      }
      try {
        ip('link', 'del', `stv${i}-${this.tag}`);
      } catch {
        // removed with the namespace
      }
    }
    try {
      ip('link', 'del', this.bridge);
    } catch {
      // not created
    }
  }
}
