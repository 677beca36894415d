// Scripted `ip`, `wg`, `nft`, `sysctl` for the fake platform: enough state to
// answer what kithd asks (links, addresses, routes, WireGuard peers), every
// command recorded. `wg show <if> dump` reflects earlier `wg set`s; a test can
// mark a handshake on a peer. Unknown `ip` subcommands succeed silently (and
// are recorded), unknown programs exit 127.
import type { ProcessResult, Spawned } from '../../src/platform/types.ts';
import { fromBase64, toBase64 } from '../../src/core/bytes.ts';
import { x25519Public } from '../../src/core/crypto.ts';

export interface FakePeer { endpoint: string | null; allowedIPs: string[]; keepaliveSec: number; handshakeSec: number; rxBytes: number; txBytes: number }

export interface FakeIface {
  privateKey: string | null;
  publicKey: string | null;
  listenPort: number;
  up: boolean;
  mtu: number;
  addresses: string[];
  peers: Map<string, FakePeer>;
  /** Routes by family ("-4"/"-6"): prefix → protocol. */
  routes: Map<string, string>;
}

interface HostView {
  readonly addresses: Set<string>;
  readonly fs: { readFile(path: string): Promise<Uint8Array> };
}

const ok = (stdout = ''): ProcessResult => ({ code: 0, stdout, stderr: '' });
const fail = (code: number, stderr: string): ProcessResult => ({ code, stdout: '', stderr });

export class FakeProc {
  readonly calls: string[][] = [];
  readonly ifaces = new Map<string, FakeIface>();
  /** When false, `ip link add … type wireguard` fails (no kernel module). */
  kernelWireguard = true;
  /** Make one command fail: returns a result to use instead, or null. */
  override: ((argv: string[]) => ProcessResult | null) | null = null;
  /** Real milliseconds each command takes (0: none), as on a slow router; other callers run meanwhile. */
  delayMs = 0;

  constructor(private readonly host: HostView) {}

  /** The WireGuard peers of an interface (for assertions). */
  peers(ifname: string): Map<string, FakePeer> { return this.ifaces.get(ifname)?.peers ?? new Map(); }

  /** Marks a live session with a peer, as a handshake would. */
  handshake(ifname: string, publicKey: string, atSec: number): void {
    const p = this.ifaces.get(ifname)?.peers.get(publicKey);
    if (p) { p.handshakeSec = atSec; p.rxBytes += 148; p.txBytes += 92; }
  }

  async run(argv: string[]): Promise<ProcessResult> {
    this.calls.push(argv);
    await (this.delayMs > 0 ? new Promise((r) => setTimeout(r, this.delayMs)) : Promise.resolve());
    const o = this.override?.(argv);
    if (o) return o;
    switch (argv[0]) {
      case 'ip': return this.ip(argv.slice(1));
      case 'wg': return this.wg(argv.slice(1));
      case 'nft': return argv[1] === 'list' ? ok('') : ok();
      case 'sysctl': return ok();
      case 'wireguard-go': return fail(1, 'wireguard-go: not available in the fake platform');
      default: return fail(127, `${argv[0]}: not found`);
    }
  }

  spawn(argv: string[]): Spawned {
    this.calls.push(argv);
    return { pid: 4242, wait: async () => 0, kill: () => undefined };
  }

  private ip(a: string[]): ProcessResult {
    const s = a.join(' ');
    let m: RegExpExecArray | null;
    if ((m = /^(-d )?link show dev (\S+)$/.exec(s))) {
      const i = this.ifaces.get(m[2]!);
      if (!i) return fail(1, `Device "${m[2]}" does not exist.`);
      return ok(`4: ${m[2]}: <POINTOPOINT,NOARP${i.up ? ',UP,LOWER_UP' : ''}> mtu ${i.mtu} qdisc noqueue state UNKNOWN\n    link/none${m[1] ? '\n    wireguard' : ''}\n`);
    }
    if ((m = /^link add dev (\S+) type wireguard$/.exec(s))) {
      if (!this.kernelWireguard) return fail(2, 'Error: Unknown device type.');
      if (this.ifaces.has(m[1]!)) return fail(2, 'RTNETLINK answers: File exists');
      this.ifaces.set(m[1]!, { privateKey: null, publicKey: null, listenPort: 0, up: false, mtu: 1420, addresses: [], peers: new Map(), routes: new Map() });
      return ok();
    }
    if ((m = /^link set dev (\S+) (mtu (\d+)|up)$/.exec(s))) {
      const i = this.ifaces.get(m[1]!);
      if (!i) return fail(1, 'Cannot find device');
      if (m[3]) i.mtu = Number(m[3]); else i.up = true;
      return ok();
    }
    if ((m = /^link del dev (\S+)$/.exec(s))) {
      const i = this.ifaces.get(m[1]!);
      if (!i) return fail(1, 'Cannot find device');
      for (const addr of i.addresses) this.host.addresses.delete(addr.split('/')[0]!);
      this.ifaces.delete(m[1]!);
      return ok();
    }
    if ((m = /^-o addr show dev (\S+)$/.exec(s))) {
      const i = this.ifaces.get(m[1]!);
      if (!i) return fail(1, `Device "${m[1]}" does not exist.`);
      return ok(i.addresses.map((x) => `4: ${m![1]}    ${x.includes(':') ? 'inet6' : 'inet'} ${x} scope global ${m![1]}\n`).join(''));
    }
    if ((m = /^addr replace (\S+) dev (\S+)$/.exec(s))) {
      const i = this.ifaces.get(m[2]!);
      if (!i) return fail(1, 'Cannot find device');
      if (!i.addresses.includes(m[1]!)) i.addresses.push(m[1]!);
      this.host.addresses.add(m[1]!.split('/')[0]!);
      return ok();
    }
    if (s === '-o -4 addr show scope global') {
      const lan = [...this.host.addresses].filter((x) => /^\d+\.\d+\.\d+\.\d+$/.test(x) && ![...this.ifaces.values()].some((i) => i.addresses.some((y) => y.startsWith(`${x}/`))));
      return ok(lan.map((x, n) => `${n + 2}: eth${n}    inet ${x}/24 scope global eth${n}\n`).join(''));
    }
    if ((m = /^(-[46]) route show dev (\S+) proto (\d+)$/.exec(s))) {
      const i = this.ifaces.get(m[2]!);
      if (!i) return fail(1, 'Cannot find device');
      return ok([...i.routes].filter(([p, proto]) => p.includes(':') === (m![1] === '-6') && proto === m![3]).map(([p]) => `${p} scope link\n`).join(''));
    }
    if ((m = /^(-[46]) route (replace|del) (\S+) dev (\S+) proto (\d+)$/.exec(s))) {
      const i = this.ifaces.get(m[4]!);
      if (!i) return fail(1, 'Cannot find device');
      if (m[2] === 'replace') i.routes.set(m[3]!, m[5]!);
      else if (!i.routes.delete(m[3]!)) return fail(2, 'RTNETLINK answers: No such process');
      return ok();
    }
    return ok();
  }

  private async wgFile(path: string): Promise<string> {
    return new TextDecoder().decode(await this.host.fs.readFile(path)).trim();
  }

  private async wg(a: string[]): Promise<ProcessResult> {
    if (a[0] === 'show' && a[2] === 'dump') {
      const i = this.ifaces.get(a[1]!);
      if (!i) return fail(1, `Unable to access interface: No such device`);
      const lines = [`${i.privateKey ?? '(none)'}\t${i.publicKey ?? '(none)'}\t${i.listenPort}\toff`];
      for (const [k, p] of i.peers) {
        lines.push([k, '(none)', p.endpoint ?? '(none)', p.allowedIPs.join(',') || '(none)', p.handshakeSec, p.rxBytes, p.txBytes, p.keepaliveSec || 'off'].join('\t'));
      }
      return ok(lines.join('\n') + '\n');
    }
    if (a[0] !== 'set') return fail(1, `wg ${a[0]}: not scripted`);
    const i = this.ifaces.get(a[1]!);
    if (!i) return fail(1, `Unable to modify interface: No such device`);
    let peer: FakePeer | null = null;
    for (let k = 2; k < a.length; k++) {
      const t = a[k]!;
      const v = () => { const x = a[++k]; if (x === undefined) throw new Error(`wg set: ${t} needs a value`); return x; };
      try {
        if (t === 'private-key') {
          i.privateKey = await this.wgFile(v());
          i.publicKey = toBase64(x25519Public(fromBase64(i.privateKey)));
        } else if (t === 'listen-port') i.listenPort = Number(v());
        else if (t === 'peer') {
          const key = v();
          if (a[k + 1] === 'remove') { k++; i.peers.delete(key); peer = null; continue; }
          peer = i.peers.get(key) ?? { endpoint: null, allowedIPs: [], keepaliveSec: 0, handshakeSec: 0, rxBytes: 0, txBytes: 0 };
          i.peers.set(key, peer);
        } else if (peer && t === 'endpoint') peer.endpoint = v();
        else if (peer && t === 'persistent-keepalive') peer.keepaliveSec = Number(v()) || 0;
        else if (peer && t === 'allowed-ips') peer.allowedIPs = v().split(',').filter(Boolean);
        else return fail(1, `wg set: unexpected "${t}"`);
      } catch (e) {
        return fail(1, (e as Error).message);
      }
    }
    return ok();
  }
}
