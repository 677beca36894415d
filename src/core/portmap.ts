// The port-mapping wire formats a home router speaks on UDP 5351: NAT-PMP
// (RFC 6886: external address and UDP mapping requests and their responses)
// and PCP (RFC 6887: the MAP opcode, IPv4). Requests are encoded from typed
// fields; replies come from anyone on the LAN, so decodeReply checks every
// length and field and throws DecodeError (never anything else) on bad bytes.
//
// NAT-PMP (version 0), integers big-endian:
//   external address request   [0][op 0]                                        2 bytes
//   map request                [0][op 1 UDP][reserved u16][internal port u16]
//                              [suggested external port u16][lifetime u32]      12 bytes
//   external address response  [0][128+0][result u16][epoch u32][address 4]     12 bytes
//   map response               [0][128+1][result u16][epoch u32][internal port u16]
//                              [mapped external port u16][lifetime u32]         16 bytes
//   a non-zero result may come in the 8-byte header alone.
// PCP (version 2):
//   request header   [2][R=0|op 1 MAP][reserved u16][lifetime u32][client address 16]      24 bytes
//   response header  [2][R=1|op][reserved u8][result u8][lifetime u32][epoch u32][reserved 12] 24 bytes
//   MAP payload      [nonce 12][protocol u8][reserved 3][internal port u16]
//                    [external port u16][external address 16]                               36 bytes
//   IPv4 addresses travel as IPv4-mapped IPv6 (::ffff:a.b.c.d); options after
//   the payload are skipped (a reply is at most 1100 bytes, a multiple of 4).
import { DecodeError, Reader, Writer } from './codec.ts';
import { formatIPv4, parseIPv4 } from './ip.ts';

/** The port a NAT-PMP or PCP server listens on (RFC 6886 §3, RFC 6887 §19.1). */
export const PORTMAP_SERVER_PORT = 5351;
export const NATPMP_VERSION = 0;
export const PCP_VERSION = 2;
/** The largest PCP message (RFC 6887 §7); NAT-PMP replies are shorter. */
export const PCP_MAX_BYTES = 1100;
export const PCP_NONCE_BYTES = 12;
const IPPROTO_UDP = 17;
const PMP_OP_ADDRESS = 0;
const PMP_OP_MAP_UDP = 1;
const PCP_OP_MAP = 1;
const PCP_HEADER_BYTES = 24;
const PCP_MAP_BYTES = 36;

/** NAT-PMP result codes (RFC 6886 §3.5). */
export const NATPMP_RESULTS: Record<number, string> = {
  0: 'success', 1: 'unsupported version', 2: 'not authorized or refused', 3: 'network failure', 4: 'out of resources', 5: 'unsupported opcode',
};
/** PCP result codes (RFC 6887 §7.4). */
export const PCP_RESULTS: Record<number, string> = {
  0: 'success', 1: 'unsupported version', 2: 'not authorized', 3: 'malformed request', 4: 'unsupported opcode', 5: 'unsupported option',
  6: 'malformed option', 7: 'network failure', 8: 'no resources', 9: 'unsupported protocol', 10: 'user exceeded quota',
  11: 'cannot provide external', 12: 'address mismatch', 13: 'excessive remote peers',
};

export type PortmapProtocol = 'nat-pmp' | 'pcp';

/** A decoded reply. `result` 0 is success; the other fields of a failed reply are not read. */
export type PortmapReply =
  | { protocol: 'nat-pmp'; op: 'address'; result: number; epochSec: number; external: string }
  | { protocol: 'nat-pmp'; op: 'map'; result: number; epochSec: number; internalPort: number; externalPort: number; lifetimeSec: number }
  | { protocol: 'pcp'; op: 'map'; result: number; epochSec: number; lifetimeSec: number; nonce: Uint8Array; internalPort: number; externalPort: number; external: string }
  /** A failed reply whose body is absent or belongs to an opcode we never send. */
  | { protocol: PortmapProtocol; op: 'error'; result: number; opcode: number };

/** What a result code means, for logs and `kith status`. */
export function resultText(protocol: PortmapProtocol, result: number): string {
  return (protocol === 'pcp' ? PCP_RESULTS : NATPMP_RESULTS)[result] ?? `result ${result}`;
}

function checkPort(v: number, what: string, min: number): void {
  if (!Number.isInteger(v) || v < min || v > 65535) throw new RangeError(`${what} ${v} is not a port ${min}-65535`);
}
function checkLifetime(v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`lifetime ${v} s is not a u32`);
}

export function encodePmpAddressRequest(): Uint8Array {
  return Uint8Array.of(NATPMP_VERSION, PMP_OP_ADDRESS);
}

/** A NAT-PMP UDP mapping request; lifetime 0 (and external port 0) deletes the mapping. */
export function encodePmpMapRequest(internalPort: number, externalPort: number, lifetimeSec: number): Uint8Array {
  checkPort(internalPort, 'internal port', 1);
  checkPort(externalPort, 'suggested external port', 0);
  checkLifetime(lifetimeSec);
  return new Writer().u8(NATPMP_VERSION).u8(PMP_OP_MAP_UDP).u16(0).u16(internalPort).u16(externalPort).u32(lifetimeSec).finish();
}

export interface PcpMapRequest {
  /** The client's own IPv4 address as the server sees it (RFC 6887 §8.1: else ADDRESS_MISMATCH). */
  client: string;
  nonce: Uint8Array;
  internalPort: number;
  /** 0: no preference. */
  externalPort: number;
  /** '0.0.0.0': no preference. */
  external: string;
  /** 0 deletes the mapping. */
  lifetimeSec: number;
}

/** A PCP MAP request for UDP, IPv4. */
export function encodePcpMapRequest(r: PcpMapRequest): Uint8Array {
  if (r.nonce.length !== PCP_NONCE_BYTES) throw new RangeError(`PCP nonce of ${r.nonce.length} bytes (need ${PCP_NONCE_BYTES})`);
  checkPort(r.internalPort, 'internal port', 1);
  checkPort(r.externalPort, 'suggested external port', 0);
  checkLifetime(r.lifetimeSec);
  const w = new Writer().u8(PCP_VERSION).u8(PCP_OP_MAP).u16(0).u32(r.lifetimeSec);
  mappedV4(w, r.client);
  w.bytes(r.nonce).u8(IPPROTO_UDP).u8(0).u16(0).u16(r.internalPort).u16(r.externalPort);
  mappedV4(w, r.external);
  return w.finish();
}

function mappedV4(w: Writer, ip: string): void {
  const v = parseIPv4(ip);
  if (v === null) throw new RangeError(`"${ip}" is not an IPv4 address`);
  w.bytes(new Uint8Array(10)).u16(0xffff).u32(v);
}

function readMappedV4(r: Reader, field: string): string {
  const b = r.bytes(16, field);
  for (let i = 0; i < 10; i++) if (b[i] !== 0) throw new DecodeError(`PCP reply: ${field} is not an IPv4-mapped address`);
  if (b[10] !== 0xff || b[11] !== 0xff) throw new DecodeError(`PCP reply: ${field} is not an IPv4-mapped address`);
  return formatIPv4(((b[12]! << 24) >>> 0) + (b[13]! << 16) + (b[14]! << 8) + b[15]!);
}

/** A reply from a NAT-PMP or PCP server, by its version byte. Throws DecodeError on anything malformed. */
export function decodeReply(bytes: Uint8Array): PortmapReply {
  if (bytes.length > PCP_MAX_BYTES) throw new DecodeError(`port-mapping reply: ${bytes.length} bytes exceed ${PCP_MAX_BYTES}`);
  if (bytes.length < 2) throw new DecodeError(`port-mapping reply: ${bytes.length} bytes`);
  if (bytes[0] === NATPMP_VERSION) return decodePmp(bytes);
  if (bytes[0] === PCP_VERSION) return decodePcp(bytes);
  throw new DecodeError(`port-mapping reply: unknown version ${bytes[0]}`);
}

function decodePmp(bytes: Uint8Array): PortmapReply {
  const r = new Reader(bytes, 'NAT-PMP reply');
  r.u8('version');
  const op = r.u8('opcode');
  if (op < 128) throw new DecodeError(`NAT-PMP reply: opcode ${op} is a request`);
  const result = r.u16('result');
  const epochSec = r.u32('epoch');
  if (result !== 0) {
    if (r.remaining > 8) throw new DecodeError(`NAT-PMP reply: ${bytes.length} bytes for an error`);
    return { protocol: 'nat-pmp', op: 'error', result, opcode: op - 128 };
  }
  if (op === 128 + PMP_OP_ADDRESS) {
    const a = r.u32('external address');
    r.end();
    return { protocol: 'nat-pmp', op: 'address', result, epochSec, external: formatIPv4(a) };
  }
  if (op === 128 + PMP_OP_MAP_UDP) {
    const internalPort = r.u16('internal port');
    const externalPort = r.u16('external port');
    const lifetimeSec = r.u32('lifetime');
    r.end();
    return { protocol: 'nat-pmp', op: 'map', result, epochSec, internalPort, externalPort, lifetimeSec };
  }
  throw new DecodeError(`NAT-PMP reply: unexpected opcode ${op - 128} with success`);
}

function decodePcp(bytes: Uint8Array): PortmapReply {
  if (bytes.length % 4 !== 0) throw new DecodeError(`PCP reply: ${bytes.length} bytes is not a multiple of 4`);
  const r = new Reader(bytes, 'PCP reply');
  r.u8('version');
  const ro = r.u8('opcode');
  if (!(ro & 0x80)) throw new DecodeError(`PCP reply: opcode ${ro} is a request`);
  const opcode = ro & 0x7f;
  r.u8('reserved');
  const result = r.u8('result');
  const lifetimeSec = r.u32('lifetime');
  const epochSec = r.u32('epoch');
  r.bytes(12, 'reserved');
  if (result !== 0 && (opcode !== PCP_OP_MAP || r.remaining < PCP_MAP_BYTES)) return { protocol: 'pcp', op: 'error', result, opcode };
  if (opcode !== PCP_OP_MAP) throw new DecodeError(`PCP reply: unexpected opcode ${opcode} with success`);
  const nonce = r.bytes(PCP_NONCE_BYTES, 'nonce');
  const proto = r.u8('protocol');
  r.bytes(3, 'reserved');
  const internalPort = r.u16('internal port');
  const externalPort = r.u16('external port');
  const external = readMappedV4(r, 'external address');
  if (result === 0 && proto !== IPPROTO_UDP) throw new DecodeError(`PCP reply: protocol ${proto}, not UDP`);
  skipOptions(r);
  return { protocol: 'pcp', op: 'map', result, epochSec, lifetimeSec, nonce, internalPort, externalPort, external };
}

/** PCP options: [code u8][reserved u8][length u16][data, padded to 4]; read only to check they fit. */
function skipOptions(r: Reader): void {
  while (r.remaining > 0) {
    r.u8('option code');
    r.u8('option reserved');
    const len = r.u16('option length');
    r.bytes(Math.ceil(len / 4) * 4, 'option data');
  }
}

/** Whether the gateway's external address can be advertised: not private, shared (CGNAT), loopback, link-local, multicast or unspecified. */
export function isAdvertisableIPv4(ip: string): boolean {
  const v = parseIPv4(ip);
  if (v === null) return false;
  const a = v >>> 24;
  const b = (v >>> 16) & 255;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false;
  if (a === 100 && b >= 64 && b < 128) return false;
  if (a === 169 && b === 254) return false;
  if (a === 172 && b >= 16 && b < 32) return false;
  return !(a === 192 && b === 168);
}

export { PCP_HEADER_BYTES, PCP_MAP_BYTES };
