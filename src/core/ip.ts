// IPv4 and IPv6 addresses and prefixes: parsing, formatting, containment.
// IPv4 addresses are numbers (u32); IPv6 addresses are 16-byte arrays.

export function parseIPv4(s: string): number | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return null;
  let v = 0;
  for (let i = 1; i <= 4; i++) {
    const o = Number(m[i]);
    if (o > 255 || (m[i]!.length > 1 && m[i]![0] === '0')) return null;
    v = v * 256 + o;
  }
  return v;
}

export function formatIPv4(v: number): string {
  return `${(v >>> 24) & 255}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function parseIPv6(s: string): Uint8Array | null {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return null;
  let head = s;
  let tail4: number | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.')) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (tail4 === null) return null;
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const parts = head.split('::');
  if (parts.length > 2) return null;
  const toGroups = (p: string) => (p === '' ? [] : p.split(':'));
  const left = toGroups(parts[0]!);
  const right = parts.length === 2 ? toGroups(parts[1]!) : [];
  const missing = 8 - left.length - right.length;
  if (parts.length === 2 ? missing < 1 : missing !== 0) return null;
  const groups = [...left, ...Array<string>(parts.length === 2 ? missing : 0).fill('0'), ...right];
  const out = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const g = groups[i]!;
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    const n = parseInt(g, 16);
    out[2 * i] = n >> 8;
    out[2 * i + 1] = n & 255;
  }
  if (tail4 !== null) { out[12] = tail4 >>> 24; out[13] = (tail4 >>> 16) & 255; out[14] = (tail4 >>> 8) & 255; out[15] = tail4 & 255; }
  return out;
}

/** RFC 5952 text form: lower case, longest zero run compressed. */
export function formatIPv6(b: Uint8Array): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestAt = i; bestLen = j - i; }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestAt < 0) return hex(g);
  return `${hex(g.slice(0, bestAt))}::${hex(g.slice(bestAt + bestLen))}`;
}

export interface Prefix4 { base: number; len: number }

export function parsePrefix4(s: string): Prefix4 | null {
  const m = /^([0-9.]+)\/(\d{1,2})$/.exec(s);
  if (!m) return null;
  const a = parseIPv4(m[1]!);
  const len = Number(m[2]);
  if (a === null || len > 32) return null;
  const base = maskIPv4(a, len);
  return base === a ? { base, len } : null;
}

export function maskIPv4(a: number, len: number): number {
  return len === 0 ? 0 : (a - (a % 2 ** (32 - len))) >>> 0;
}

export function formatPrefix4(p: Prefix4): string {
  return `${formatIPv4(p.base)}/${p.len}`;
}

export function prefix4Equal(a: Prefix4, b: Prefix4): boolean {
  return a.base === b.base && a.len === b.len;
}

export function prefix4Contains(p: Prefix4, a: number): boolean {
  return maskIPv4(a, p.len) === p.base;
}

export function prefix4Size(p: Prefix4): number {
  return 2 ** (32 - p.len);
}

/** A global unicast IPv6 address (2000::/3): reached as it is, with no NAT on the way. */
export function isGlobalIPv6(s: string): boolean {
  const b = parseIPv6(s);
  return b !== null && (b[0]! & 0xe0) === 0x20;
}

export function isValidIPv4Or6(s: string): boolean {
  return parseIPv4(s) !== null || parseIPv6(s) !== null;
}

/** Parses "host:port", "[v6]:port"; host may be a name. */
export function parseHostPort(s: string): { host: string; port: number } | null {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(s) ?? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(s);
  if (!m) return null;
  const port = Number(m[2]);
  if (port < 1 || port > 65535) return null;
  if (s.startsWith('[') && !parseIPv6(m[1]!)) return null;
  return { host: m[1]!, port };
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
