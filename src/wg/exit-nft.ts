// Exit nodes on the host: the donor's nftables table (masquerade out of its
// WAN, nothing else for the mesh, a capacity cap, bytes per user) and the
// user's (its LAN translated to its overlay address, policy routing of the
// LAN's traffic to the exit table). Idempotent: a table is replaced only when
// its text changes, rules and the route only where they differ.
//
// User routing: `ip rule` EXIT_RULE_PRIORITY `from <lan> lookup 7798` per LAN
// subnet, after Kith's 32700 (main without its default) and 32701 (members'
// subnets): the LAN's own, connected and mesh routes win, and only what would
// have taken the host's default route goes to the exit. The router's own
// traffic (WireGuard's UDP included) has no LAN source and keeps the main
// default route, so a dead donor never cuts the router off. With no healthy
// donor the exit table holds `unreachable default`: the LAN's internet
// traffic stops rather than leave through the home's own uplink unasked.
import { NftTables } from './nft-tables.ts';

export const EXIT_TABLE = 7798;
export const EXIT_RULE_PRIORITY = 32702;
/** Destinations behind a donor's WAN the mesh may never reach: RFC 1918, CGNAT, link-local (and the pool's routes stay on the mesh). */
export const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '100.64.0.0/10', '169.254.0.0/16'];
/** Users a donor counts (dynamic nftables sets). */
export const MAX_EXIT_USERS = 4096;

export interface DonorSpec {
  devs: string[];
  wan: string;
  pool: string;
  capacityMbit: number;
  /** Own advertised IPv4/IPv6 subnets: members may reach those. */
  subnets: string[];
  udpPorts: number[];
  tcpPorts: number[];
}

export interface UserSpec { dev: string; lans: string[]; overlayIPv4: string; mesh: string[] }

const list = (xs: (string | number)[]) => `{ ${xs.join(', ')} }`;
const quoted = (xs: string[]) => list(xs.map((x) => `"${x}"`));

/** The donor's table (`inet <name>`). */
export function donorTable(name: string, s: DonorSpec): string {
  const k = `iifname ${quoted(s.devs)}`;
  const kbytes = Math.max(1, s.capacityMbit * 125);
  const limit = `limit rate over ${kbytes} kbytes/second burst ${Math.max(64, Math.round(kbytes / 10))} kbytes drop`;
  const v4 = s.subnets.filter((x) => !x.includes(':'));
  const v6 = s.subnets.filter((x) => x.includes(':'));
  const lines = [
    `table inet ${name} {`,
    `  set up { type ipv4_addr; size ${MAX_EXIT_USERS}; flags dynamic; counter; }`,
    `  set down { type ipv4_addr; size ${MAX_EXIT_USERS}; flags dynamic; counter; }`,
    '  chain forward_exit {',
    '    type filter hook forward priority filter - 5; policy accept;',
    `    ${k} oifname ${quoted(s.devs)} accept`,
    ...(v4.length ? [`    ${k} ip daddr ${list(v4)} accept`] : []),
    ...(v6.length ? [`    ${k} ip6 daddr ${list(v6)} accept`] : []),
    `    ${k} ip daddr ${list(PRIVATE_V4)} counter drop`,
    `    ${k} oifname "${s.wan}" ip saddr ${s.pool} ${limit}`,
    `    ${k} oifname "${s.wan}" ip saddr ${s.pool} update @up { ip saddr } accept`,
    `    ${k} counter drop`,
    `    iifname "${s.wan}" oifname ${quoted(s.devs)} ip daddr ${s.pool} ct state established,related ${limit}`,
    `    iifname "${s.wan}" oifname ${quoted(s.devs)} ip daddr ${s.pool} ct state established,related update @down { ip daddr } accept`,
    '  }',
    '  chain input_exit {',
    '    type filter hook input priority filter - 5; policy accept;',
    `    ${k} ct state established,related accept`,
    ...(s.udpPorts.length ? [`    ${k} udp dport ${list(s.udpPorts)} accept`] : []),
    ...(s.tcpPorts.length ? [`    ${k} tcp dport ${list(s.tcpPorts)} accept`] : []),
    `    ${k} icmp type echo-request accept`,
    `    ${k} icmpv6 type echo-request accept`,
    `    ${k} counter drop`,
    '  }',
    '  chain post_exit {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "${s.wan}" ip saddr ${s.pool} masquerade`,
    '  }',
    '}',
  ];
  return lines.join('\n') + '\n';
}

/** The user's table (`ip <name>`): its LAN's packets into the tunnel leave with its overlay address, except to the mesh. */
export function userTable(name: string, s: UserSpec): string {
  const mesh = s.mesh.length ? ` ip daddr != ${list(s.mesh)}` : '';
  return [
    `table ip ${name} {`,
    '  chain post_exit {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    oifname "${s.dev}" ip saddr ${list(s.lans)}${mesh} snat to ${s.overlayIPv4}`,
    '  }',
    '}',
  ].join('\n') + '\n';
}

/** Bytes per user address in one of the donor's sets (`nft list set` output). */
export function parseSetCounters(out: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of out.matchAll(/(\d+\.\d+\.\d+\.\d+) counter packets \d+ bytes (\d+)/g)) m.set(x[1]!, Number(x[2]));
  return m;
}

/** The IPv4 networks (canonical prefixes) of `ip -4 -o addr show` lines, except on the given devices. */
export function lanNetworks(addrShow: string, exceptDevs: (dev: string) => boolean): string[] {
  const out = new Set<string>();
  for (const line of addrShow.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+).*scope global/.exec(line);
    if (!m || exceptDevs(m[1]!)) continue;
    const len = Number(m[6]);
    const a = ((Number(m[2]) << 24) | (Number(m[3]) << 16) | (Number(m[4]) << 8) | Number(m[5])) >>> 0;
    const net = len === 0 ? 0 : (a & (~0 << (32 - len))) >>> 0;
    out.add(`${net >>> 24}.${(net >>> 16) & 255}.${(net >>> 8) & 255}.${net & 255}/${len}`);
  }
  return [...out].sort();
}

/** The devices of the host's IPv4 default routes (`ip -4 route show default`). */
export function defaultDevs(routeShow: string): string[] {
  return [...routeShow.matchAll(/\bdev\s+(\S+)/g)].map((m) => m[1]!);
}

/** Applies the exit tables (NftTables), rules and route. */
export class ExitApplier extends NftTables {
  /** The exit table's default: through `dev`, or unreachable (null). */
  async route(dev: string | null): Promise<void> {
    const want = dev === null ? ['unreachable', 'default'] : ['default', 'dev', dev];
    const cur = await this.run(['ip', '-4', 'route', 'show', 'table', String(EXIT_TABLE)]);
    const line = cur.stdout.trim();
    if (line === want.join(' ') || (dev !== null && line.startsWith(`default dev ${dev}`))) return;
    const r = await this.run(['ip', '-4', 'route', 'replace', ...want, 'table', String(EXIT_TABLE)]);
    if (r.code !== 0) throw new Error(`ip route replace ${want.join(' ')} table ${EXIT_TABLE}: ${r.stderr.trim()}`);
  }

  /** `from <lan> lookup EXIT_TABLE` rules for exactly these LANs. */
  async rules(lans: string[]): Promise<void> {
    const cur = await this.run(['ip', '-4', 'rule', 'show', 'pref', String(EXIT_RULE_PRIORITY)]);
    const have = new Set([...cur.stdout.matchAll(/from (\S+) lookup/g)].map((m) => (m[1]!.includes('/') ? m[1]! : `${m[1]}/32`)));
    for (const l of have) if (!lans.includes(l)) await this.run(['ip', '-4', 'rule', 'del', 'pref', String(EXIT_RULE_PRIORITY), 'from', l, 'lookup', String(EXIT_TABLE)]);
    for (const l of lans) {
      if (have.has(l)) continue;
      const r = await this.run(['ip', '-4', 'rule', 'add', 'pref', String(EXIT_RULE_PRIORITY), 'from', l, 'lookup', String(EXIT_TABLE)]);
      if (r.code !== 0) throw new Error(`ip rule add from ${l} lookup ${EXIT_TABLE}: ${r.stderr.trim()}`);
    }
  }

  /** Bytes per user (up, down) from the donor's sets. */
  async counters(name: string): Promise<{ up: Map<string, number>; down: Map<string, number> }> {
    const read = async (set: string) => parseSetCounters((await this.run(['nft', 'list', 'set', 'inet', name, set])).stdout);
    return { up: await read('up'), down: await read('down') };
  }
}
