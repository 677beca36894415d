// The mesh zone served by kithd: a DNS index rebuilt from each new netmap,
// swapped in atomically, and a resolver listening on loopback and the
// node's overlay addresses.
import type { Platform } from '../platform/types.ts';
import { buildIndex, type DnsIndex, type ZoneInput } from '../dns/zone.ts';
import { startDnsServer, type DnsServer } from '../dns/server.ts';
import type { Netmap } from '../core/netmap.ts';
import type { NetworkParams } from '../core/network.ts';
import { formatPrefix4, formatHostPort } from '../core/ip.ts';
import { ula48Text } from '../core/network.ts';
import type { DnsSettings } from '../uci/settings.ts';
import type { Logger } from './log.ts';

export function zoneInput(nm: Netmap, net: NetworkParams, serial: number): ZoneInput {
  return {
    zone: net.zone, ula48: ula48Text(net.ula48), ipv4Pool: formatPrefix4(net.ipv4Pool), soaSerial: serial, self: nm.self.name,
    // Names are bound at admission, but two admins could admit one name at once:
    // the node admitted first keeps it (the index drops later duplicates).
    nodes: [...nm.nodes].sort((a, b) => a.issuedAtMs - b.issuedAtMs || (a.id < b.id ? -1 : 1)).map((n) => ({
      name: n.name, ipv4: n.ipv4, ipv6: n.ipv6,
      // Services come from the node's own signed record, so the node is their owner.
      services: n.services.map((s) => ({
        name: s.name, port: s.port, proto: s.proto, ...(s.type ? { type: s.type } : {}), owner: n.name,
        ...(s.at ? ('address' in s.at ? { address: s.at.address } : { refused: s.at.refused }) : {}),
      })),
    })),
  };
}

export class MeshDns {
  /** Null only while update() builds the next one (synchronously: no query sees it). */
  private index: DnsIndex | null;
  private server: DnsServer | null = null;
  private serial = 0;
  /** Names the last build left out of the zone (bad or foreign services, duplicate nodes), with the reason of each. */
  leftOut: { name: string; reason: string }[] = [];

  constructor(private readonly p: Platform, private readonly log: Logger, private readonly net: NetworkParams, nm: Netmap) {
    this.index = this.build(nm);
  }

  private build(nm: Netmap): DnsIndex {
    // SOA serials are 32-bit; seconds since the epoch keep them increasing across restarts.
    this.serial = Math.max(this.serial + 1, Math.floor(this.p.clock.nowMs() / 1000)) >>> 0;
    const { index, rejected } = buildIndex(zoneInput(nm, this.net, this.serial));
    this.leftOut = rejected.slice(0, 32).map((r) => ({ name: r.name, reason: r.reason }));
    for (const r of rejected) this.log.limited(`dns-reject-${r.name}`, 'warn', `dns: left ${r.kind} "${r.name}" out of the zone: ${r.reason}`);
    return index;
  }

  update(nm: Netmap): void {
    // The old index goes before the new one is built, so the two never take
    // room at once (1.6 MB each for 100 members under txiki.js). Only a bad
    // zone or pool can throw, and the constructor has built from those.
    this.index = null;
    this.index = this.build(nm);
  }

  async start(s: DnsSettings, overlay: string[]): Promise<void> {
    const hosts = [...s.listen, ...(s.listenOverlay ? overlay : [])].filter((h, i, all) => all.indexOf(h) === i);
    this.server = await startDnsServer(this.p, {
      listen: hosts.map((h) => formatHostPort(h, s.port)),
      getIndex: () => this.index!,
      upstreams: s.upstreams.map((u) => formatHostPort(u.address, u.port)),
      forward: s.forward,
      log: (level, msg) => this.log.limited(`dns-${msg.slice(0, 24)}`, level, msg),
    });
    this.log.info(`dns: serving ${this.net.zone} on ${this.server.listen.join(', ')}`);
  }

  get listen(): string[] { return this.server?.listen ?? []; }
  get stats() { return this.server?.stats ?? null; }

  stop(): void {
    this.server?.close();
    this.server = null;
  }
}
