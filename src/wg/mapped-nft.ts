// Mapped blocks on the owner's host (core/mapped.ts): one nftables table that
// translates 1:1 between each of its clashing LANs and the mapped block the
// mesh reaches it through (prefix netmap, host bits kept). Only on Kith's
// interfaces: what arrives for a mapped block goes to the LAN host behind it,
// and a connection the LAN opens into the mesh leaves from the mapped block,
// so a member with the same LAN replies to an address it can route. The
// source translation runs after the exit's (srcnat + 1): traffic a LAN sends
// to the internet through an exit is the exit's (wg/exit-nft.ts).
import type { MappedSubnet } from '../core/prefixes.ts';

/** The table's text, or null when nothing is mapped (the table is removed). */
export function mappedTable(name: string, devs: readonly string[], mapped: readonly MappedSubnet[]): string | null {
  const v4 = mapped.filter((m) => !m.prefix.includes(':'));
  if (!v4.length) return null;
  const ifs = `{ ${devs.map((d) => `"${d}"`).join(', ')} }`;
  const inbound = v4.map((m) => `${m.mappedTo} : ${m.prefix}`).join(', ');
  const outbound = v4.map((m) => `${m.prefix} : ${m.mappedTo}`).join(', ');
  return [
    `table ip ${name} {`,
    '  chain pre {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    `    iifname ${ifs} dnat ip prefix to ip daddr map { ${inbound} }`,
    '  }',
    '  chain post {',
    '    type nat hook postrouting priority srcnat + 1; policy accept;',
    `    oifname ${ifs} snat ip prefix to ip saddr map { ${outbound} }`,
    '  }',
    '}',
    '',
  ].join('\n');
}
