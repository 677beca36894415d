// The endpoints a node advertises as configured: those given at init and in
// the config file, as addresses (records carry no host names), and the one
// the home router maps to the WireGuard port (portmap.ts).
import { isGlobalIPv6, isValidIPv4Or6, parseHostPort } from '../core/ip.ts';
import type { Endpoint } from '../core/record.ts';

/** Endpoints given at init and in the config file, then the mapped one, without duplicates. */
export function configuredEndpoints(atInit: string[], fromConfig: string[], mapped: Endpoint | null = null): Endpoint[] {
  const given = [...atInit, ...fromConfig].filter((e, i, all) => all.indexOf(e) === i).map(toEndpoint).filter((e): e is Endpoint => e !== null);
  return mapped && !given.some((e) => e.host === mapped.host && e.port === mapped.port) ? [...given, mapped] : given;
}

/** A configured endpoint; records carry addresses, so a host name is left out (and logged at start). */
function toEndpoint(s: string): Endpoint | null {
  const hp = parseHostPort(s);
  if (!hp || !isValidIPv4Or6(hp.host)) return null;
  return { kind: 'configured', host: hp.host, port: hp.port };
}

/** IPv4 LAN endpoints advertised at most, and global IPv6 ones. */
export const MAX_LAN4 = 4;
export const MAX_GLOBAL6 = 2;

/**
 * The node's own addresses as LAN endpoints, from `ip -o addr show`: IPv4
 * addresses of scope global, and global unicast IPv6 addresses (2000::/3)
 * that are stable: not temporary (privacy addresses change every day), not
 * deprecated, not tentative. `skip(ifname)`: Kith's own interfaces.
 */
export function lanEndpoints(ipAddrShow: string, port: number, skip: (ifname: string) => boolean): Endpoint[] {
  const v4: Endpoint[] = [];
  const v6: Endpoint[] = [];
  for (const line of ipAddrShow.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+(inet6?)\s+([0-9a-fA-F.:]+)\/\d+ .*scope global(.*)$/.exec(line);
    if (!m || skip(m[1]!)) continue;
    if (m[2] === 'inet') v4.push({ kind: 'lan', host: m[3]!, port });
    else if (isGlobalIPv6(m[3]!) && !/\b(temporary|deprecated|tentative|dadfailed)\b/.test(m[4]!)) v6.push({ kind: 'lan', host: m[3]!.toLowerCase(), port });
  }
  return [...v4.slice(0, MAX_LAN4), ...v6.slice(0, MAX_GLOBAL6)];
}
