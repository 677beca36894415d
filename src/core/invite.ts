// Invite codes: a one-time secret plus what a newcomer needs to reach the
// member who will admit it. Text form: "kith1-" then Crockford base32 in
// groups of five, ending with a CRC-16 so typos are caught before any network
// traffic.
//
// Binary layout (version 1):
//   u8 version | 12 networkId | 16 secret | u8 nEndpoints (1..4)
//   × (u8 family 4|6, 4|16 addr, u16 port) | u16 crc16 of everything before
import { Reader, Writer, DecodeError } from './codec.ts';
import { fromBase32, toBase32 } from './bytes.ts';
import { hashTo, x25519Public } from './crypto.ts';
import { NETWORK_ID_BYTES } from './network.ts';
import { parseIPv4, parseIPv6, formatIPv4, formatIPv6 } from './ip.ts';

export const INVITE_VERSION = 1;
export const INVITE_SECRET_BYTES = 16;
export const INVITE_ID_BYTES = 16;
export const INVITE_PREFIX = 'kith1-';
export const MAX_INVITE_ENDPOINTS = 4;

export interface InviteCode {
  networkId: Uint8Array;
  secret: Uint8Array;
  endpoints: { host: string; port: number }[];
}

/** Invalid code typed or pasted by the user (local input, not remote data). */
export class InviteCodeError extends Error {
  override name = 'InviteCodeError';
}

/** CRC-16/CCITT-FALSE. */
export function crc16(b: Uint8Array): number {
  let crc = 0xffff;
  for (const x of b) {
    crc ^= x << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

export function encodeInvite(code: InviteCode): string {
  if (code.endpoints.length < 1 || code.endpoints.length > MAX_INVITE_ENDPOINTS) {
    throw new RangeError(`an invite carries 1..${MAX_INVITE_ENDPOINTS} endpoints, not ${code.endpoints.length}`);
  }
  const w = new Writer().u8(INVITE_VERSION).bytes(code.networkId).bytes(code.secret).u8(code.endpoints.length);
  for (const e of code.endpoints) {
    const v4 = parseIPv4(e.host);
    if (v4 !== null) w.u8(4).u32(v4);
    else {
      const v6 = parseIPv6(e.host);
      if (!v6) throw new RangeError(`invite endpoint must be an IP address, not "${e.host}"`);
      w.u8(6).bytes(v6);
    }
    w.u16(e.port);
  }
  const body = w.finish();
  const bytes = new Writer().bytes(body).u16(crc16(body)).finish();
  const b32 = toBase32(bytes).toLowerCase();
  return INVITE_PREFIX + (b32.match(/.{1,5}/g) ?? []).join('-');
}

export function decodeInvite(text: string): InviteCode {
  const t = text.trim().toLowerCase();
  if (!t.startsWith(INVITE_PREFIX)) throw new InviteCodeError(`invalid invite code: it must start with "${INVITE_PREFIX}"`);
  let bytes: Uint8Array;
  try {
    bytes = fromBase32(t.slice(INVITE_PREFIX.length).replace(/[-\s]/g, ''));
  } catch (e) {
    throw new InviteCodeError(`invalid invite code: ${(e as Error).message}`);
  }
  if (bytes.length < 3) throw new InviteCodeError('invalid invite code: too short (truncated?)');
  const body = bytes.subarray(0, bytes.length - 2);
  const crc = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
  if (crc16(body) !== crc) throw new InviteCodeError('invalid invite code: checksum mismatch (truncated or mistyped?)');
  try {
    const r = new Reader(body, 'invite code');
    const v = r.u8('version');
    if (v !== INVITE_VERSION) throw new DecodeError(`unsupported version ${v}`);
    const networkId = r.bytes(NETWORK_ID_BYTES, 'network id');
    const secret = r.bytes(INVITE_SECRET_BYTES, 'secret');
    const n = r.u8('endpoint count');
    if (n < 1 || n > MAX_INVITE_ENDPOINTS) throw new DecodeError(`${n} endpoints`);
    const endpoints = [];
    for (let i = 0; i < n; i++) {
      const fam = r.u8('family');
      const host = fam === 4 ? formatIPv4(r.u32('address')) : fam === 6 ? formatIPv6(r.bytes(16, 'address')) : null;
      if (host === null) throw new DecodeError(`unknown address family ${fam}`);
      const port = r.u16('port');
      if (port === 0) throw new DecodeError('port 0');
      endpoints.push({ host, port });
    }
    r.end();
    return { networkId, secret, endpoints };
  } catch (e) {
    throw new InviteCodeError(`invalid invite code: ${(e as Error).message}`);
  }
}

/** The invite's box key pair, derived from its secret: only code holders know it. */
export function inviteKeys(secret: Uint8Array): { publicKey: Uint8Array; secretKey: Uint8Array; id: Uint8Array } {
  const secretKey = hashTo('kith invite key', secret, 32);
  const publicKey = x25519Public(secretKey);
  return { publicKey, secretKey, id: hashTo('kith invite id', publicKey, INVITE_ID_BYTES) };
}
