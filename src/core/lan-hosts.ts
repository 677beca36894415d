// Where a service that runs on a host of a member's LAN is reached from this
// node. A member may name hosts only on the LANs it advertises and this node
// routes to it: a name can never point into someone else's network. A LAN
// that clashes with another member's is reached through its mapped block
// (mapped.ts), so its hosts are answered there, the same on every member;
// the member itself answers with the host's own address.
import { formatIPv4, parseIPv4, parsePrefix4 } from './ip.ts';
import { lanOf, type MappedSubnet } from './prefixes.ts';

export type LanHostAddress = { address: string } | { refused: string };

/**
 * The address of `host` on the LAN of a member that advertises `subnets`, of
 * which this node routes `accepted` (native prefixes and mapped blocks) and
 * reaches `mapped` through blocks; `own`: the member is this node.
 */
export function lanHostAddress(host: string, own: boolean, subnets: readonly string[], accepted: readonly string[], mapped: readonly MappedSubnet[]): LanHostAddress {
  const a = parseIPv4(host);
  if (a === null) return { refused: `host ${host} is not an IPv4 address` };
  const lan = lanOf(host, subnets);
  if (lan === undefined) return { refused: `host ${host} is on no LAN its node advertises` };
  if (own) return { address: host };
  const m = mapped.find((x) => x.prefix === lan);
  if (m) {
    const from = parsePrefix4(lan)!;
    const to = parsePrefix4(m.mappedTo)!;
    return { address: formatIPv4((to.base + (a - from.base)) >>> 0) };
  }
  return accepted.includes(lan) ? { address: host } : { refused: `host ${host} is on ${lan}, which this node does not route` };
}
