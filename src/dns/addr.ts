// IP address and prefix parsing for the DNS zone: IPv4/IPv6 text to bytes,
// prefix containment, and the in-addr.arpa / ip6.arpa names of addresses and
// of the reverse zones that cover a prefix. Pure; throws SyntaxError naming
// the offending text (local misuse: addresses come from our own netmap).

export interface Prefix {
  /** 4 bytes (IPv4) or 16 bytes (IPv6), host bits zeroed. */
  bytes: Uint8Array;
  bits: number;
}

/** Parses dotted-quad IPv4 text into 4 bytes. */
export function parseIPv4(s: string): Uint8Array {
  const parts = s.split('.');
  if (parts.length !== 4) throw new SyntaxError(`not an IPv4 address: "${s}"`);
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) throw new SyntaxError(`not an IPv4 address: "${s}"`);
    out[i] = Number(p);
  }
  return out;
}

/** Parses IPv6 text (with "::" and an optional dotted-quad tail) into 16 bytes. */
export function parseIPv6(s: string): Uint8Array {
  const bad = () => new SyntaxError(`not an IPv6 address: "${s}"`);
  if (!/^[0-9a-fA-F:.]{2,45}$/.test(s)) throw bad();
  const halves = s.split('::');
  if (halves.length > 2) throw bad();
  const groups = (h: string): number[] => {
    if (h === '') return [];
    const out: number[] = [];
    const parts = h.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) throw bad();
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) throw bad();
  const all = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => { out[2 * i] = g >> 8; out[2 * i + 1] = g & 255; });
  return out;
}

/** Parses "addr/bits" for IPv4 or IPv6; host bits are cleared. */
export function parsePrefix(s: string): Prefix {
  const m = /^([^/]+)\/([0-9]{1,3})$/.exec(s);
  if (!m) throw new SyntaxError(`not a prefix (addr/bits): "${s}"`);
  const bytes = m[1]!.includes(':') ? parseIPv6(m[1]!) : parseIPv4(m[1]!);
  const bits = Number(m[2]);
  if (bits > bytes.length * 8) throw new SyntaxError(`prefix length ${bits} too long in "${s}"`);
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - 8 * i));
    bytes[i]! &= (0xff << (8 - keep)) & 0xff;
  }
  return { bytes, bits };
}

/** True when addr (4 or 16 bytes) lies inside the prefix of the same family. */
export function prefixContains(p: Prefix, addr: Uint8Array): boolean {
  if (addr.length !== p.bytes.length) return false;
  for (let i = 0; i < addr.length; i++) {
    const keep = Math.max(0, Math.min(8, p.bits - 8 * i));
    if (keep === 0) return true;
    const mask = (0xff << (8 - keep)) & 0xff;
    if ((addr[i]! & mask) !== p.bytes[i]) return false;
  }
  return true;
}

/** The reverse name (no trailing dot) of an address: in-addr.arpa or ip6.arpa. */
export function reverseName(addr: Uint8Array): string {
  if (addr.length === 4) return `${addr[3]}.${addr[2]}.${addr[1]}.${addr[0]}.in-addr.arpa`;
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) nibbles.push((addr[i]! & 15).toString(16), (addr[i]! >> 4).toString(16));
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** Most reverse zones one prefix may expand to (a /10 gives 64 zones of /16). */
export const MAX_REVERSE_ZONES = 256;

/**
 * The reverse zone apexes covering a prefix: the prefix rounded up to an
 * octet (IPv4) or nibble (IPv6) boundary, one apex per value of the extra bits.
 */
export function reverseZones(p: Prefix): string[] {
  const v4 = p.bytes.length === 4;
  const unit = v4 ? 8 : 4;
  const units = Math.ceil(p.bits / unit);
  if (units === 0) throw new RangeError(`prefix /${p.bits} is too short for a reverse zone`);
  const extra = units * unit - p.bits;
  const count = 1 << extra;
  if (count > MAX_REVERSE_ZONES) throw new RangeError(`prefix /${p.bits} needs ${count} reverse zones (max ${MAX_REVERSE_ZONES})`);
  const digits: number[] = [];
  for (let i = 0; i < units; i++) {
    digits.push(v4 ? p.bytes[i]! : (i % 2 === 0 ? p.bytes[i >> 1]! >> 4 : p.bytes[i >> 1]! & 15));
  }
  const out: string[] = [];
  for (let k = 0; k < count; k++) {
    const d = digits.slice();
    d[units - 1] = d[units - 1]! + k;
    const labels = d.reverse().map((x) => (v4 ? String(x) : x.toString(16)));
    out.push(`${labels.join('.')}.${v4 ? 'in-addr' : 'ip6'}.arpa`);
  }
  return out;
}

/** Parses "1.2.3.4:53", "[fd00::1]:53", or a bare address (then defaultPort). */
export function parseHostPort(s: string, defaultPort: number): { address: string; port: number } {
  const bad = () => new SyntaxError(`not an address:port: "${s}"`);
  let address = s;
  let port = defaultPort;
  const v6 = /^\[([^\]]+)\](?::([0-9]{1,5}))?$/.exec(s);
  if (v6) { address = v6[1]!; if (v6[2] !== undefined) port = Number(v6[2]); }
  else if ((s.match(/:/g) ?? []).length === 1) { const [a, p] = s.split(':'); if (!/^[0-9]{1,5}$/.test(p!)) throw bad(); address = a!; port = Number(p); }
  if (address.includes(':')) parseIPv6(address); else parseIPv4(address);
  if (port > 65535) throw bad();
  return { address, port };
}

/** "addr:port", with brackets around IPv6 addresses. */
export function formatHostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
