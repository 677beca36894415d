// The opener's TTL rule of a hole punch (core/punch.ts) on the host: one
// nftables table per peer that lowers the TTL of our WireGuard handshake
// initiations to the peer's public endpoint (only those: the response and the
// data must reach the far NAT), from the attempt until the session is up or
// the attempt fails. Tables are named by listen port, so several kithd may
// share a host, and applied whole like Kith's other tables (wg/nft-tables.ts).
import type { Platform } from '../platform/types.ts';
import { NftTables } from '../wg/nft-tables.ts';

export class PunchRules {
  private readonly nft: NftTables;

  constructor(private readonly p: Platform, runDir: string, private readonly listenPort: number) {
    this.nft = new NftTables(p, runDir);
  }

  private tableOf(peer: string): string { return `kithp_${this.listenPort}_${peer.slice(0, 8)}`; }

  /** Installs the rule toward `host:port`; throws with nft's reason when it cannot. */
  async open(a: { peer: string; host: string; port: number; ttl: number }): Promise<void> {
    const v6 = a.host.includes(':');
    const fam = v6 ? 'ip6' : 'ip';
    const table = this.tableOf(a.peer);
    await this.nft.table(fam, table, `table ${fam} ${table} {\n chain out {\n  type filter hook output priority 0; policy accept;\n`
      + `  ${fam} daddr ${a.host} udp sport ${this.listenPort} udp dport ${a.port} @th,64,8 1 ${v6 ? 'ip6 hoplimit' : 'ip ttl'} set ${a.ttl}\n }\n}\n`);
  }

  /** Removes the rule toward a peer (either family). */
  async close(peer: string): Promise<void> {
    for (const fam of ['ip', 'ip6'] as const) await this.nft.table(fam, this.tableOf(peer), null);
  }

  /** Removes the rules a previous kithd on this listen port left (it stopped mid-punch). */
  async clearLeftovers(): Promise<void> {
    const r = await this.p.proc.run(['nft', 'list', 'tables']);
    if (r.code !== 0) return;
    for (const m of r.stdout.matchAll(/^table (ip6?) (kithp_(\d+)_[0-9a-f]+)$/gm)) {
      if (Number(m[3]) === this.listenPort) await this.nft.table(m[1] as 'ip' | 'ip6', m[2]!, null);
    }
  }
}
