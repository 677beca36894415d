// A Kith network: its signed parameters (name, zone, address pools, policy),
// derived from and signed by the network's Ed25519 key, the root of trust.
//
// Wire layout (version 1), signed by the network key:
//   u8 version | 32 networkPub | str8 name | str8 zone | 4 ipv4PoolBase | u8 ipv4PoolLen
//   | 6 ula48 | u16 controlPort | u8 policy | u64 createdAtMs | 64 signature
import { Reader, Writer, DecodeError } from './codec.ts';
import { hashTo, signDetached, verifyDetached, type SignKeys } from './crypto.ts';
import { formatIPv4, formatIPv6, type Prefix4 } from './ip.ts';

export const NETWORK_VERSION = 1;
export const NETWORK_ID_BYTES = 12;
export const DEFAULT_IPV4_POOL: Prefix4 = { base: 0x64400000, len: 10 }; // 100.64.0.0/10
export const DEFAULT_CONTROL_PORT = 51821;
export const MAX_NAME_LABEL = 63;

/** Who may admit new members: admins only, or any member (friend-to-friend). */
export type AdmitPolicy = 'admins' | 'any';

export interface NetworkParams {
  networkPub: Uint8Array;
  name: string;
  zone: string;
  ipv4Pool: Prefix4;
  /** The first 6 bytes of the ULA /48, starting with 0xfd. */
  ula48: Uint8Array;
  controlPort: number;
  policy: AdmitPolicy;
  createdAtMs: number;
}

export interface SignedNetwork {
  params: NetworkParams;
  /** The exact signed bytes, kept so they can be passed on unchanged. */
  bytes: Uint8Array;
}

/** A DNS label: letters, digits, hyphens; no leading or trailing hyphen. */
export function isDnsLabel(s: string): boolean {
  return s.length >= 1 && s.length <= MAX_NAME_LABEL && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(s);
}

export function isDnsName(s: string): boolean {
  return s.length <= 200 && s.split('.').every(isDnsLabel);
}

/** A network's short id: what invites carry to name the network they are for. */
export function networkId(networkPub: Uint8Array): Uint8Array {
  return hashTo('kith network id', networkPub, NETWORK_ID_BYTES);
}

/** The ULA /48 of a network: fd followed by 40 bits of the network key's hash (RFC 4193). */
export function deriveUla48(networkPub: Uint8Array): Uint8Array {
  const h = hashTo('kith ula', networkPub, 5);
  return Uint8Array.from([0xfd, ...h]);
}

export function ula48Text(ula48: Uint8Array): string {
  const full = new Uint8Array(16);
  full.set(ula48);
  return `${formatIPv6(full)}/48`;
}

/** The node's ULA: the /48, zeros, and the IPv4 overlay address in the last 32 bits. */
export function ipv6ForIPv4(ula48: Uint8Array, ipv4: number): string {
  const full = new Uint8Array(16);
  full.set(ula48);
  full[12] = ipv4 >>> 24; full[13] = (ipv4 >>> 16) & 255; full[14] = (ipv4 >>> 8) & 255; full[15] = ipv4 & 255;
  return formatIPv6(full);
}

/**
 * The node's transport address: the ULA /48, subnet ffff, and the IPv4 overlay
 * address in the last 32 bits. End-to-end WireGuard sessions to members
 * reached through a relay run between transport addresses, which the outer
 * interface routes hop by hop; the overlay addresses stay end to end.
 */
export function transportForIPv4(ula48: Uint8Array, ipv4: number): string {
  const full = new Uint8Array(16);
  full.set(ula48);
  full[6] = 0xff; full[7] = 0xff;
  full[12] = ipv4 >>> 24; full[13] = (ipv4 >>> 16) & 255; full[14] = (ipv4 >>> 8) & 255; full[15] = ipv4 & 255;
  return formatIPv6(full);
}

/** The UDP port of every member's end-to-end interface (reached only through the outer one). */
export function e2ePort(p: NetworkParams): number {
  return p.controlPort < 65535 ? p.controlPort + 1 : p.controlPort - 1;
}

function encodeUnsigned(p: NetworkParams): Writer {
  return new Writer().u8(NETWORK_VERSION).bytes(p.networkPub).str8(p.name).str8(p.zone)
    .u32(p.ipv4Pool.base).u8(p.ipv4Pool.len).bytes(p.ula48).u16(p.controlPort)
    .u8(p.policy === 'any' ? 1 : 0).u64(p.createdAtMs);
}

export function signNetwork(p: NetworkParams, networkKeys: SignKeys): SignedNetwork {
  const body = encodeUnsigned(p).finish();
  const bytes = new Writer().bytes(body).bytes(signDetached(body, networkKeys.secretKey)).finish();
  return { params: p, bytes };
}

/** Decodes and verifies signed network parameters; throws DecodeError naming the problem. */
/** A network's IPv4 pool is /8 to /24 (room for admin blocks), with no host bits set. */
export const MIN_POOL_LEN = 8;
export const MAX_POOL_LEN = 24;

/** Why a prefix cannot be a network's IPv4 pool, or null. */
export function ipv4PoolError(p: Prefix4): string | null {
  if (p.len < MIN_POOL_LEN || p.len > MAX_POOL_LEN) return `ipv4 pool /${p.len} out of range /${MIN_POOL_LEN}../${MAX_POOL_LEN}`;
  const hostBits = p.len === 0 ? 0xffffffff : (2 ** (32 - p.len) - 1);
  if ((p.base & hostBits) !== 0) return `ipv4 pool ${formatIPv4(p.base)}/${p.len} has host bits set`;
  return null;
}

export function decodeNetwork(bytes: Uint8Array): SignedNetwork {
  const r = new Reader(bytes, 'network parameters');
  const version = r.u8('version');
  if (version !== NETWORK_VERSION) throw new DecodeError(`network parameters: unsupported version ${version}`);
  const networkPub = r.bytes(32, 'network key');
  const name = r.str8('name');
  const zone = r.str8('zone');
  const ipv4Pool = { base: r.u32('ipv4 pool'), len: r.u8('ipv4 pool length') };
  const ula48 = r.bytes(6, 'ula48');
  const controlPort = r.u16('control port');
  const policy: AdmitPolicy = r.u8('policy') === 1 ? 'any' : 'admins';
  const createdAtMs = r.u64('created at');
  const signedLen = r.offset;
  const sig = r.bytes(64, 'signature');
  r.end();
  if (!verifyDetached(bytes.subarray(0, signedLen), sig, networkPub)) throw new DecodeError('network parameters: bad signature');
  if (!isDnsLabel(name) || !isDnsName(zone)) throw new DecodeError(`network parameters: invalid name "${name}" or zone "${zone}"`);
  const poolError = ipv4PoolError(ipv4Pool);
  if (poolError) throw new DecodeError(`network parameters: ${poolError}`);
  return { params: { networkPub, name, zone, ipv4Pool, ula48, controlPort, policy, createdAtMs }, bytes };
}
