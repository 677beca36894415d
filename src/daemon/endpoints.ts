// The endpoints a node advertises as configured: those given at init and in
// the config file, as addresses (records carry no host names), and the one
// the home router maps to the WireGuard port (portmap.ts).
import { isValidIPv4Or6, parseHostPort } from '../core/ip.ts';
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
