// The contract of /etc/config/kith: the UCI model validated into typed Kith
// settings, with every problem (file, line, section, option) reported at once.
import type { LogLevel } from '../platform/types.ts';
import type { UciPackage } from './model.ts';
import { Collector, SectionReader, type Problem } from './section-reader.ts';
import { parseUciLenient } from './parse.ts';
import { lanOf, overlaps, parsePrefix, prefixRefusal, type OverlaySpace } from '../core/prefixes.ts';
import {
  ABS_PATH, BOOL, CIDR, DNS_LABEL, DNS_SERVER, HOST_PORT, IFNAME, intRange, IPV4_ADDRESS, LISTEN_ADDRESS, oneOf, OVERLAY, PORT,
  type DnsServer, type HostPort, type ValueType,
} from './values.ts';

/*
 * Schema (all sections optional; defaults in brackets):
 *   config kith 'main'    enabled [1], ifname [kith0], listen_port [51820],
 *                         state_dir [/etc/kith], log_level [info], list endpoint,
 *                         node_name, ubus_socket [/var/run/ubus/ubus.sock], portmap [1]
 *   config dns 'dns'      enabled [1], port [defaults.dnsPort, 5353], list listen
 *                         [127.0.0.1 + overlay], forward [0], list upstream (ip[#port])
 *   config subnet         prefix (required): a LAN network advertised to the mesh;
 *                         at least /8 (IPv6 /16), no host bits, not reserved,
 *                         outside the network's pool and ULA (when known)
 *   config service        name, port (required), proto [tcp], type, host (an IPv4 address
 *                         on one of the subnets above: the LAN host that runs it)
 *   config exit 'exit'    offer [0], capacity_mbit [100], use [0]: 0 (none), auto or 1,
 *                         or a member's name or node id (see core/exits.ts)
 */

/** Limits on repeated things, so a runaway config cannot exhaust the router. */
export const MAX_ENDPOINTS = 16;
export const MAX_DNS_LISTEN = 16;
export const MAX_DNS_UPSTREAMS = 8;
export const MAX_SUBNETS = 64;
export const MAX_SERVICES = 64;
export const MAX_EXIT_CAPACITY_MBIT = 100_000;
export const DEFAULT_DNS_PORT = 5353;

export interface DnsSettings {
  enabled: boolean;
  port: number;
  /** Explicit listen addresses (127.0.0.1 by default). */
  listen: string[];
  /** Also listen on this node's overlay addresses (the `overlay` item; on by default). */
  listenOverlay: boolean;
  forward: boolean;
  upstreams: DnsServer[];
}
export interface SubnetSettings { prefix: string; family: 4 | 6 }
/** `host`: the LAN host that runs it (null: this node). */
export interface ServiceSettings { name: string; port: number; proto: 'tcp' | 'udp'; type: string | null; host: string | null }
/** `use`: null (no exit), 'auto' (rendezvous choice) or a member's name or node id. */
export interface ExitSettings { offer: boolean; capacityMbit: number | null; use: 'auto' | string | null }

export interface KithSettings {
  enabled: boolean;
  ifname: string;
  listenPort: number;
  stateDir: string;
  logLevel: LogLevel;
  endpoints: HostPort[];
  nodeName: string | null;
  ubusSocket: string;
  /** Ask the home router (NAT-PMP, PCP) to map the WireGuard port and advertise the mapping. */
  portmap: boolean;
  dns: DnsSettings;
  subnets: SubnetSettings[];
  services: ServiceSettings[];
  exit: ExitSettings;
}

export { formatProblem, type Problem } from './section-reader.ts';

export interface SettingsResult { settings: KithSettings; errors: Problem[]; warnings: Problem[] }

export interface ValidateOptions {
  /** Used in problems; its last path component is the package name. Default /etc/config/kith. */
  file?: string;
  defaults?: { dnsPort?: number };
  /** The network this node is a member of, if any: subnets may not overlap its pool or ULA. */
  network?: OverlaySpace | null;
}

const LOG_LEVELS = oneOf<LogLevel>(['debug', 'info', 'warn', 'error']);
const PROTO = oneOf(['tcp', 'udp'] as const);
const CAPACITY = intRange(1, MAX_EXIT_CAPACITY_MBIT, 'Mbit/s');
/** An exit to use: off, auto, or a member (DNS label or 16 hex digits of node id). */
const EXIT_USE: ValueType<'auto' | string | null> = { expected: '0, auto, or a member\'s name or node id', parse(raw) {
  const b = BOOL.parse(raw);
  if (b.ok) return { ok: true, value: b.value ? 'auto' : null };
  return raw === 'auto' || DNS_LABEL.parse(raw.toLowerCase()).ok ? { ok: true, value: raw === 'auto' ? 'auto' : raw.toLowerCase() } : { ok: false, why: '' };
} };

function readMain(r: SectionReader | null): Omit<KithSettings, 'dns' | 'subnets' | 'services' | 'exit'> {
  const out = {
    enabled: r?.one('enabled', BOOL) ?? true,
    ifname: r?.one('ifname', IFNAME) ?? 'kith0',
    listenPort: r?.one('listen_port', PORT) ?? 51820,
    stateDir: r?.one('state_dir', ABS_PATH) ?? '/etc/kith',
    logLevel: r?.one('log_level', LOG_LEVELS) ?? 'info',
    endpoints: r?.list('endpoint', HOST_PORT, MAX_ENDPOINTS) ?? [],
    nodeName: r?.one('node_name', DNS_LABEL) ?? null,
    ubusSocket: r?.one('ubus_socket', ABS_PATH) ?? '/var/run/ubus/ubus.sock',
    portmap: r?.one('portmap', BOOL) ?? true,
  };
  r?.finish();
  return out;
}

function readDns(r: SectionReader | null, defaultPort: number): DnsSettings {
  const listen = r?.list('listen', LISTEN_ADDRESS, MAX_DNS_LISTEN);
  const out: DnsSettings = {
    enabled: r?.one('enabled', BOOL) ?? true,
    port: r?.one('port', PORT) ?? defaultPort,
    listen: listen ? listen.filter((a) => a !== OVERLAY) : ['127.0.0.1'],
    listenOverlay: listen ? listen.includes(OVERLAY) : true,
    forward: r?.one('forward', BOOL) ?? false,
    upstreams: r?.list('upstream', DNS_SERVER, MAX_DNS_UPSTREAMS) ?? [],
  };
  r?.finish();
  return out;
}

function readExit(r: SectionReader | null): ExitSettings {
  const out: ExitSettings = {
    offer: r?.one('offer', BOOL) ?? false,
    capacityMbit: r?.one('capacity_mbit', CAPACITY) ?? null,
    use: r?.one('use', EXIT_USE) ?? null,
  };
  if (r && out.offer && out.use !== null) r.error('use', 'a node cannot offer an exit and use one at the same time (set offer or use to 0)');
  if (r && !out.offer && r.has('capacity_mbit')) r.warn('capacity_mbit', 'has no effect while offer is 0');
  r?.finish();
  return out;
}

function readSubnet(r: SectionReader, seen: Map<string, string>, net: OverlaySpace | null): SubnetSettings | null {
  const p = r.one('prefix', CIDR);
  if (!r.has('prefix')) r.error(undefined, `missing option "prefix" (expected ${CIDR.expected})`);
  r.finish();
  if (!p) return null;
  // The same rules every member applies to what others advertise (core/prefixes.ts).
  const refused = prefixRefusal(p.prefix, net);
  if (refused) { r.error('prefix', `${p.prefix} cannot be advertised: ${refused.reason}`); return null; }
  const first = seen.get(p.prefix);
  if (first) { r.warn('prefix', `${p.prefix} is already advertised by section "${first}"; ignored`); return null; }
  const wider = [...seen].find(([q]) => overlaps(parsePrefix(q)!, parsePrefix(p.prefix)!));
  if (wider) { r.warn('prefix', `${p.prefix} overlaps ${wider[0]} of section "${wider[1]}" (members route only the first); ignored`); return null; }
  seen.set(p.prefix, r.label);
  return p;
}

function readService(r: SectionReader, seen: Map<string, string>): ServiceSettings | null {
  const name = r.one('name', DNS_LABEL);
  const port = r.one('port', PORT);
  const proto = r.one('proto', PROTO) ?? 'tcp';
  const type = r.one('type', DNS_LABEL) ?? null;
  const host = r.one('host', IPV4_ADDRESS) ?? null;
  if (!r.has('name')) r.error(undefined, `missing option "name" (expected ${DNS_LABEL.expected})`);
  if (!r.has('port')) r.error(undefined, `missing option "port" (expected ${PORT.expected})`);
  r.finish();
  if (name === undefined || port === undefined) return null;
  const key = `${name}/${proto}`;
  const first = seen.get(key);
  if (first) { r.error('name', `service "${name}" (${proto}) is already defined in section "${first}"`); return null; }
  seen.set(key, r.label);
  return { name, port, proto, type, host };
}

/** Singleton sections: the type and the one name they are read from. */
const SINGLETONS: Record<string, string> = { kith: 'main', dns: 'dns', exit: 'exit' };

/**
 * Validates the model of /etc/config/kith. Invalid values fall back to their
 * defaults in `settings` and are listed in `errors`; unknown sections and
 * options are listed in `warnings`. Nothing is dropped silently.
 */
export function validateKithSettings(pkg: UciPackage, opts: ValidateOptions = {}): SettingsResult {
  const file = opts.file ?? '/etc/config/kith';
  const c = new Collector(file, file.slice(file.lastIndexOf('/') + 1) || 'kith');
  const dnsPort = opts.defaults?.dnsPort ?? DEFAULT_DNS_PORT;
  const counts = new Map<string, number>();
  const single: Record<string, SectionReader | null> = { kith: null, dns: null, exit: null };
  const subnets: SubnetSettings[] = [];
  const services: ServiceSettings[] = [];
  const seenSubnets = new Map<string, string>();
  const seenServices = new Map<string, string>();
  const hosts: Array<[SectionReader, string]> = [];
  for (const s of pkg.sections) {
    const n = counts.get(s.type) ?? 0;
    counts.set(s.type, n + 1);
    const label = `${c.pkgName}.${s.name ?? `@${s.type}[${n}]`}`;
    const r = new SectionReader(c, s, label);
    const wanted = SINGLETONS[s.type];
    if (wanted !== undefined && s.name === wanted) single[s.type] = r;
    else if (wanted !== undefined) r.warn(undefined, `ignored: settings of type "${s.type}" are read from config ${s.type} '${wanted}'`);
    else if (s.type === 'subnet') {
      if (subnets.length >= MAX_SUBNETS) r.error(undefined, `more than ${MAX_SUBNETS} subnets; ignored`);
      else { const p = readSubnet(r, seenSubnets, opts.network ?? null); if (p) subnets.push(p); }
    } else if (s.type === 'service') {
      if (services.length >= MAX_SERVICES) r.error(undefined, `more than ${MAX_SERVICES} services; ignored`);
      else { const v = readService(r, seenServices); if (v) { services.push(v); if (v.host) hosts.push([r, v.host]); } }
    } else r.warn(undefined, `unknown section type "${s.type}", ignored`);
  }
  for (const [r, host] of hosts) {
    if (lanOf(host, subnets.map((p) => p.prefix)) === undefined) r.error('host', `${host} is on none of the subnets this node advertises (config subnet)`);
  }
  const settings: KithSettings = { ...readMain(single['kith'] ?? null), dns: readDns(single['dns'] ?? null, dnsPort), subnets, services, exit: readExit(single['exit'] ?? null) };
  const byLine = (a: Problem, b: Problem) => a.line - b.line;
  return { settings, errors: c.errors.sort(byLine), warnings: c.warnings.sort(byLine) };
}

/** Parses (leniently) and validates /etc/config/kith text in one go: the daemon reports syntax and value problems together. */
export function readKithSettings(text: string | Uint8Array, opts: ValidateOptions = {}): SettingsResult {
  const file = opts.file ?? '/etc/config/kith';
  const { pkg, errors } = parseUciLenient(text, file);
  const res = validateKithSettings(pkg, { ...opts, file });
  const syntax: Problem[] = errors.map((e) => ({ file, line: e.line, section: '', message: `Syntax error: ${e.message}`, detail: e.message }));
  return { ...res, errors: [...syntax, ...res.errors].sort((a, b) => a.line - b.line) };
}
