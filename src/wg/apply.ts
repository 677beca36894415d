// The WireGuard applier: creates the interface (kernel module, or
// wireguard-go where none exists), and reconciles addresses and peers against
// what `wg` and `ip` report (routes: routes.ts). Every step is a diff;
// unchanged state issues no command.
import type { Platform } from '../platform/types.ts';
import type { WgPeer } from '../core/netmap.ts';
import { parseWgDump, type WgState } from './dump.ts';
import { planWg } from './plan.ts';
import { utf8Encode } from '../core/bytes.ts';

export const OVERLAY_MTU = 1420;
/** Host routes to members reached end to end carry this protocol number (advertised subnets: wg/routes.ts). */
export const HOST_ROUTE_PROTO = 78;
/** The end-to-end interface's packets travel inside the outer one over IPv6: 40 + 8 + 32 bytes less. */
export const E2E_MTU = OVERLAY_MTU - 80;

/** The end-to-end interface's name: the outer one's (at most 14 characters of it) and "e". */
export function e2eIfname(ifname: string): string {
  return `${ifname.slice(0, 14)}e`;
}

export class ApplyError extends Error {
  override name = 'ApplyError';
}

export interface InterfaceSpec {
  ifname: string;
  privateKey: string;
  publicKey: string;
  listenPort: number;
  /** "100.64.0.2/10" and "fd..::/48": the node's addresses with the overlay prefix. */
  addresses: string[];
  /** A private directory (tmpfs on a router) where the key is handed to `wg` and removed at once. */
  keyDir: string;
  /** Default OVERLAY_MTU. */
  mtu?: number;
}

export class WgApplier {
  /** 'kernel' or 'wireguard-go', once the interface exists. */
  backend: 'kernel' | 'wireguard-go' | null = null;
  constructor(private readonly p: Platform) {}

  private async run(argv: string[]): Promise<string> {
    const r = await this.p.proc.run(argv, { timeoutMs: 10000 });
    if (r.code !== 0) throw new ApplyError(`${argv.join(' ')}: exit ${r.code}: ${r.stderr.trim().split('\n')[0] ?? ''}`);
    return r.stdout;
  }

  async exists(ifname: string): Promise<boolean> {
    return (await this.p.proc.run(['ip', 'link', 'show', 'dev', ifname])).code === 0;
  }

  /** Creates the interface if missing and sets key, port, addresses, MTU and up. */
  async ensureInterface(spec: InterfaceSpec): Promise<void> {
    if (!(await this.exists(spec.ifname))) {
      const k = await this.p.proc.run(['ip', 'link', 'add', 'dev', spec.ifname, 'type', 'wireguard']);
      if (k.code === 0) this.backend = 'kernel';
      else {
        const go = await this.p.proc.run(['wireguard-go', spec.ifname], { timeoutMs: 10000 });
        if (go.code !== 0 || !(await this.exists(spec.ifname))) {
          throw new ApplyError(`cannot create WireGuard interface ${spec.ifname}: no kernel module (${k.stderr.trim()}) and wireguard-go failed (${go.stderr.trim().split('\n').pop()})`);
        }
        this.backend = 'wireguard-go';
      }
    } else if (this.backend === null) {
      const ps = await this.p.proc.run(['ip', '-d', 'link', 'show', 'dev', spec.ifname]);
      this.backend = /wireguard/.test(ps.stdout) ? 'kernel' : 'wireguard-go';
    }
    const state = await this.state(spec.ifname);
    const plan = planWg({ publicKey: spec.publicKey, listenPort: spec.listenPort, peers: state.peers.map((p) => ({ publicKey: p.publicKey, endpoint: null, allowedIPs: p.allowedIPs, keepaliveSec: p.keepaliveSec })) }, state, 0);
    if (plan.args.length) await this.wgSet(spec, plan.args);
    const have = await this.run(['ip', '-o', 'addr', 'show', 'dev', spec.ifname]);
    for (const a of spec.addresses) {
      if (!have.includes(` ${a} `)) await this.run(['ip', 'addr', 'replace', a, 'dev', spec.ifname]);
    }
    const link = await this.run(['ip', 'link', 'show', 'dev', spec.ifname]);
    const mtu = spec.mtu ?? OVERLAY_MTU;
    if (!link.includes(`mtu ${mtu} `)) await this.run(['ip', 'link', 'set', 'dev', spec.ifname, 'mtu', String(mtu)]);
    if (!/[<,]UP[,>]/.test(link)) await this.run(['ip', 'link', 'set', 'dev', spec.ifname, 'up']);
  }

  async state(ifname: string): Promise<WgState> {
    return parseWgDump(await this.run(['wg', 'show', ifname, 'dump']));
  }

  /** Reconciles peers; returns the number of `wg set` invocations (0 or 1). */
  async applyPeers(spec: InterfaceSpec, peers: WgPeer[], nowSec: number): Promise<number> {
    const state = await this.state(spec.ifname);
    const plan = planWg({ publicKey: spec.publicKey, listenPort: spec.listenPort, peers }, state, nowSec);
    if (!plan.args.length) return 0;
    await this.wgSet(spec, plan.args);
    return 1;
  }

  /** `wg set`; a private key goes through a 0600 file (stdin may be a socket, which `wg` cannot open). */
  private async wgSet(spec: InterfaceSpec, args: string[]): Promise<void> {
    const i = args.indexOf('/dev/stdin');
    if (i < 0) { await this.run(['wg', 'set', spec.ifname, ...args]); return; }
    const keyFile = `${spec.keyDir}/.wg-key-${spec.ifname}`;
    await this.p.fs.writeFileAtomic(keyFile, utf8Encode(spec.privateKey + '\n'), 0o600);
    try {
      await this.run(['wg', 'set', spec.ifname, ...args.slice(0, i), keyFile, ...args.slice(i + 1)]);
    } finally {
      await this.p.fs.remove(keyFile);
    }
  }

  /**
   * Reconciles the host routes (/32, /128) of members reached end to end on
   * `ifname` (the end-to-end interface). They live in the main table, tagged
   * HOST_ROUTE_PROTO: the overlay pool is connected on the outer interface
   * there, and only a more specific main-table route takes a relayed member's
   * address to the end-to-end interface. They are inside the network's own
   * pool and ULA, which no member may advertise, so they cannot shadow a
   * route of the host's.
   */
  async applyHostRoutes(ifname: string, hosts: string[]): Promise<number> {
    let n = 0;
    const proto = String(HOST_ROUTE_PROTO);
    for (const family of ['-4', '-6']) {
      const out = await this.run(['ip', family, 'route', 'show', 'dev', ifname, 'proto', proto]);
      // `ip route show` prints a host route without its length ("100.64.0.3", not "100.64.0.3/32").
      const full = (p: string) => (p.includes('/') ? p : `${p}/${family === '-6' ? 128 : 32}`);
      const have = new Set(out.split('\n').map((l) => l.trim().split(' ')[0]!).filter(Boolean).map(full));
      const want = hosts.filter((s) => s.includes(':') === (family === '-6'));
      for (const s of want) if (!have.has(s)) { await this.run(['ip', family, 'route', 'replace', s, 'dev', ifname, 'proto', proto]); n++; }
      for (const s of have) if (!want.includes(s)) { await this.run(['ip', family, 'route', 'del', s, 'dev', ifname, 'proto', proto]); n++; }
    }
    return n;
  }

  /** Removes peers (the next applyPeers adds them afresh). */
  async removePeers(ifname: string, publicKeys: string[]): Promise<void> {
    if (publicKeys.length) await this.run(['wg', 'set', ifname, ...publicKeys.flatMap((k) => ['peer', k, 'remove'])]);
  }

  async removeInterface(ifname: string): Promise<void> {
    if (await this.exists(ifname)) await this.run(['ip', 'link', 'del', 'dev', ifname]);
  }
}
