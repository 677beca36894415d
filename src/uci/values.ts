// Typed readers for the option values of /etc/config/kith: booleans, ports,
// interface names, DNS labels, IP addresses, CIDR prefixes, host:port pairs.
// Each says what it expects, so errors can name it.

/** A value reader: `expected` completes "(expected …)" in error messages. */
export interface ValueType<T> {
  readonly expected: string;
  /** The value, or a string saying more precisely what is wrong (or '' for nothing more). */
  parse(raw: string): { ok: true; value: T } | { ok: false; why: string };
}

function simple<T>(expected: string, parse: (raw: string) => T | undefined): ValueType<T> {
  return {
    expected,
    parse(raw) {
      const value = parse(raw);
      return value === undefined ? { ok: false, why: '' } : { ok: true, value };
    },
  };
}

const TRUE = new Set(['1', 'yes', 'on', 'true', 'enabled']);
const FALSE = new Set(['0', 'no', 'off', 'false', 'disabled']);

/** Booleans as OpenWrt's config_get_bool reads them; LuCI writes 0 and 1. */
export const BOOL = simple('0 or 1', (s) => (TRUE.has(s) ? true : FALSE.has(s) ? false : undefined));

function integer(s: string, min: number, max: number): number | undefined {
  if (!/^[0-9]{1,9}$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

export const PORT = simple('a port 1-65535', (s) => integer(s, 1, 65535));

/** A whole number in [min, max]; `unit` is named in the message. */
export function intRange(min: number, max: number, unit: string): ValueType<number> {
  return simple(`a whole number ${min}-${max}${unit ? ` (${unit})` : ''}`, (s) => integer(s, min, max));
}

export function oneOf<T extends string>(values: readonly T[]): ValueType<T> {
  return simple(`one of ${values.join(', ')}`, (s) => (values as readonly string[]).includes(s) ? (s as T) : undefined);
}

/** Linux dev_valid_name: under IFNAMSIZ (16) bytes, not . or .., no /, : or whitespace. */
export const IFNAME = simple('an interface name of 1-15 characters without spaces, "/" or ":"', (s) =>
  /^[\x21-\x7e]{1,15}$/.test(s) && !/[/:]/.test(s) && s !== '.' && s !== '..' ? s : undefined);

export const ABS_PATH = simple('an absolute path', (s) => (/^\/[^\0\n]*$/.test(s) && s.length <= 4096 ? s : undefined));

/** An RFC 1123 label: what a node or service is called in the mesh's DNS. Kept in lower case. */
export const DNS_LABEL = simple('a DNS label: 1-63 letters, digits or "-", not starting or ending with "-"', (s) =>
  /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(s) ? s.toLowerCase() : undefined);

/** Dotted-quad IPv4 as inet_pton reads it (no leading zeros), as 4 bytes. */
export function parseIPv4(s: string): Uint8Array | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  const parts = m.slice(1).map((p) => (p.length > 1 && p[0] === '0' ? 256 : Number(p)));
  return parts.every((p) => p <= 255) ? Uint8Array.from(parts) : null;
}

function words(part: string, tailAllowed: boolean): number[] | null {
  if (part === '') return [];
  const out: number[] = [];
  const groups = part.split(':');
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i]!;
    if (g.includes('.')) {
      const v4 = i === groups.length - 1 && tailAllowed ? parseIPv4(g) : null;
      if (!v4) return null;
      out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      out.push(parseInt(g, 16));
    } else {
      return null;
    }
  }
  return out;
}

/** IPv6 text (RFC 4291 section 2.2, with :: and a dotted IPv4 tail; no zone) as 16 bytes. */
export function parseIPv6(s: string): Uint8Array | null {
  if (s.length > 45 || !/^[0-9a-fA-F:.]+$/.test(s)) return null;
  const dbl = s.indexOf('::');
  if (dbl >= 0 && s.indexOf('::', dbl + 1) >= 0) return null;
  const head = words(dbl < 0 ? s : s.slice(0, dbl), dbl < 0);
  const tail = dbl < 0 ? [] : words(s.slice(dbl + 2), true);
  if (!head || !tail) return null;
  const fill = 8 - head.length - tail.length;
  if (dbl < 0 ? fill !== 0 : fill < 1) return null;
  const all = [...head, ...new Array<number>(fill).fill(0), ...tail];
  return Uint8Array.from(all.flatMap((w) => [w >> 8, w & 255]));
}

/** RFC 5952 text: lower case, no leading zeros, the longest run of 2+ zero groups as ::. */
export function formatIPv6(b: Uint8Array): string {
  const w = Array.from({ length: 8 }, (_, i) => (b[2 * i]! << 8) | b[2 * i + 1]!);
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j === i ? i + 1 : j;
  }
  const hex = (a: number[]) => a.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(w) : `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

export const IPV4_ADDRESS = simple('an IPv4 address', (s) => (parseIPv4(s) ? s : undefined));
export const IP_ADDRESS = simple('an IPv4 or IPv6 address', (s) => (parseIPv4(s) || parseIPv6(s) ? s : undefined));

export interface Prefix { prefix: string; family: 4 | 6 }

function formatAddr(b: Uint8Array): string {
  return b.length === 4 ? b.join('.') : formatIPv6(b);
}

/** A network in CIDR form with no host bits set, in canonical text. */
export const CIDR: ValueType<Prefix> = {
  expected: 'a network in CIDR form such as 192.168.1.0/24 or fd00:1::/64',
  parse(raw) {
    const m = /^([^/]+)\/(\d{1,3})$/.exec(raw);
    const addr = m ? parseIPv4(m[1]!) ?? parseIPv6(m[1]!) : null;
    const len = m ? Number(m[2]) : -1;
    if (!addr || len > addr.length * 8) return { ok: false, why: '' };
    const net = addr.map((x, i) => x & (0xff << Math.max(0, 8 - Math.max(0, len - 8 * i))) & 0xff);
    const prefix = `${formatAddr(net)}/${len}`;
    if (net.some((x, i) => x !== addr[i])) return { ok: false, why: `host bits are set; did you mean ${prefix}?` };
    return { ok: true, value: { prefix, family: addr.length === 4 ? 4 : 6 } };
  },
};

function isHostname(s: string): boolean {
  if (s.length > 253 || /^[0-9.]+$/.test(s)) return false;
  return s.split('.').every((l) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(l));
}

export interface HostPort { host: string; port: number }

/** host:port where host is an IPv4 address, [IPv6] or a DNS name. */
export const HOST_PORT: ValueType<HostPort> = {
  expected: 'host:port, e.g. 203.0.113.7:51820, [2001:db8::1]:51820 or vpn.example.net:51820',
  parse(raw) {
    const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(raw);
    const port = m ? integer(m[3]!, 1, 65535) : undefined;
    if (!m || port === undefined) {
      const why = parseIPv6(raw.replace(/:\d+$/, '')) ? 'write IPv6 addresses in brackets: [addr]:port' : '';
      return { ok: false, why };
    }
    const host = m[1] ?? m[2]!;
    const valid = m[1] !== undefined ? parseIPv6(host) !== null : parseIPv4(host) !== null || isHostname(host);
    return valid ? { ok: true, value: { host, port } } : { ok: false, why: '' };
  },
};

export interface DnsServer { address: string; port: number }

/** dnsmasq's server syntax: an address, optionally #port (default 53). */
export const DNS_SERVER: ValueType<DnsServer> = simple('an IP address with an optional #port, e.g. 9.9.9.9 or 2620:fe::fe#53', (s) => {
  const [address = '', port, ...rest] = s.split('#');
  const p = port === undefined ? 53 : integer(port, 1, 65535);
  return rest.length === 0 && p !== undefined && (parseIPv4(address) || parseIPv6(address)) ? { address, port: p } : undefined;
});

/** The listen list's keyword for "this node's overlay addresses". */
export const OVERLAY = 'overlay';

export const LISTEN_ADDRESS = simple(`an IP address, or "${OVERLAY}" for this node's overlay addresses`, (s) =>
  s === OVERLAY || parseIPv4(s) || parseIPv6(s) ? s : undefined);
