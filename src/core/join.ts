// The join handshake, both sides, sans I/O. A newcomer holding an invite code
// connects to the admitting member's TCP join listener (outside the tunnel)
// and exchanges one request and one reply, sealed with tweetnacl box between
// the newcomer's ephemeral key and the invite key derived from the code's
// secret. Only someone holding the code can seal the request or open the reply,
// so each side knows the other holds the code; the reply's network parameters
// are then checked against the network id the code carries.
//
//   newcomer                                   admitter
//   REQUEST  u8 1 | u8 type=1 | 12 networkId | 16 inviteId | 32 ephemeralPub
//            | 24 nonce | vbytes box(JoinRequest)        ───▶
//                         ◀─── REPLY  u8 1 | u8 type=2 | 24 nonce | vbytes box(JoinReply)
//                         ◀─── REFUSE u8 1 | u8 type=3 | str8 reason   (when no box is possible)
//   RECORD   u8 1 | u8 type=4 | vbytes record  ───▶  (after admission: the newcomer's first
//            signed record, so the admitter can add it as a WireGuard peer at once)
//   JoinRequest: str8 name | 32 signPub | 32 wgPub | 64 sig(signPub, ephemeralPub | inviteId | name | wgPub)
//   JoinReply:   u8 ok=1 | vbytes network | chain | u16 n × vbytes record
//             or u8 ok=0 | str8 reason
import { Reader, Writer, DecodeError } from './codec.ts';
import { boxOpen, boxSeal, signDetached, verifyDetached, NONCE_BYTES, type SignKeys, x25519Public } from './crypto.ts';
import { concat, utf8Encode } from './bytes.ts';
import { NETWORK_ID_BYTES } from './network.ts';
import { INVITE_ID_BYTES } from './invite.ts';
import { decodeChain, encodeChain, type Cert } from './cert.ts';

export const JOIN_VERSION = 1;
export const MAX_JOIN_FRAME = 256 * 1024;
export const MAX_JOIN_RECORDS = 1000;

export interface JoinRequestOuter {
  networkId: Uint8Array;
  inviteId: Uint8Array;
  ephemeralPub: Uint8Array;
  nonce: Uint8Array;
  sealed: Uint8Array;
}

export interface JoinRequest { name: string; signPub: Uint8Array; wgPub: Uint8Array }

export type JoinReply =
  | { ok: true; network: Uint8Array; chain: Cert[]; records: Uint8Array[] }
  | { ok: false; reason: string };

function requestSigned(ephemeralPub: Uint8Array, inviteId: Uint8Array, name: string, wgPub: Uint8Array): Uint8Array {
  return concat(utf8Encode('kith join'), ephemeralPub, inviteId, utf8Encode(name), wgPub);
}

/** Newcomer: builds the request frame. ephemeralSecret and nonce are random, from the caller. */
export function buildJoinRequest(
  a: { networkId: Uint8Array; inviteId: Uint8Array; invitePub: Uint8Array; ephemeralSecret: Uint8Array; nonce: Uint8Array },
  req: JoinRequest, signKeys: SignKeys,
): Uint8Array {
  const ephemeralPub = x25519Public(a.ephemeralSecret);
  const sig = signDetached(requestSigned(ephemeralPub, a.inviteId, req.name, req.wgPub), signKeys.secretKey);
  const inner = new Writer().str8(req.name).bytes(req.signPub).bytes(req.wgPub).bytes(sig).finish();
  return new Writer().u8(JOIN_VERSION).u8(1).bytes(a.networkId).bytes(a.inviteId).bytes(ephemeralPub).bytes(a.nonce)
    .vbytes(boxSeal(inner, a.nonce, a.invitePub, a.ephemeralSecret)).finish();
}

/** Admitter: parses the outer request (before the invite is looked up). */
export function parseJoinRequestOuter(frame: Uint8Array): JoinRequestOuter {
  const r = new Reader(frame, 'join request');
  const v = r.u8('version');
  if (v !== JOIN_VERSION) throw new DecodeError(`join request: unsupported version ${v}`);
  if (r.u8('type') !== 1) throw new DecodeError('join request: not a request');
  const out = {
    networkId: r.bytes(NETWORK_ID_BYTES, 'network id'), inviteId: r.bytes(INVITE_ID_BYTES, 'invite id'),
    ephemeralPub: r.bytes(32, 'ephemeral key'), nonce: r.bytes(NONCE_BYTES, 'nonce'), sealed: r.vbytes('sealed request'),
  };
  r.end();
  return out;
}

/** Admitter: opens the sealed request with the invite's secret key. */
export function openJoinRequest(outer: JoinRequestOuter, inviteSecret: Uint8Array): JoinRequest {
  const inner = boxOpen(outer.sealed, outer.nonce, outer.ephemeralPub, inviteSecret);
  if (!inner) throw new DecodeError('join request: does not open with this invite (wrong code?)');
  const r = new Reader(inner, 'join request');
  const name = r.str8('name');
  const signPub = r.bytes(32, 'sign key');
  const wgPub = r.bytes(32, 'wireguard key');
  const sig = r.bytes(64, 'signature');
  r.end();
  if (!verifyDetached(requestSigned(outer.ephemeralPub, outer.inviteId, name, wgPub), sig, signPub)) {
    throw new DecodeError('join request: bad signature');
  }
  return { name, signPub, wgPub };
}

/** Admitter: seals a reply to the newcomer's ephemeral key. */
export function buildJoinReply(reply: JoinReply, ephemeralPub: Uint8Array, inviteSecret: Uint8Array, nonce: Uint8Array): Uint8Array {
  const w = new Writer();
  if (reply.ok) {
    w.u8(1).vbytes(reply.network);
    encodeChain(w, reply.chain);
    w.u16(reply.records.length);
    for (const rec of reply.records) w.vbytes(rec);
  } else {
    w.u8(0).str8(reply.reason.slice(0, 200));
  }
  return new Writer().u8(JOIN_VERSION).u8(2).bytes(nonce).bytes(boxSeal(w.finish(), nonce, ephemeralPub, inviteSecret)).finish();
}

/** Admitter: a plain refusal, when the request cannot be answered sealed. */
export function buildJoinRefusal(reason: string): Uint8Array {
  return new Writer().u8(JOIN_VERSION).u8(3).str8(reason.slice(0, 200)).finish();
}

/** Newcomer: opens the reply. Throws DecodeError on anything malformed or forged. */
export function openJoinReply(frame: Uint8Array, invitePub: Uint8Array, ephemeralSecret: Uint8Array): JoinReply {
  const r = new Reader(frame, 'join reply');
  const v = r.u8('version');
  if (v !== JOIN_VERSION) throw new DecodeError(`join reply: unsupported version ${v}`);
  const type = r.u8('type');
  if (type === 3) return { ok: false, reason: r.str8('reason') };
  if (type !== 2) throw new DecodeError(`join reply: unknown type ${type}`);
  const nonce = r.bytes(NONCE_BYTES, 'nonce');
  const inner = boxOpen(frame.subarray(r.offset), nonce, invitePub, ephemeralSecret);
  if (!inner) throw new DecodeError('join reply: does not authenticate (not from a holder of this invite)');
  const ir = new Reader(inner, 'join reply');
  if (ir.u8('status') === 0) return { ok: false, reason: ir.str8('reason') };
  const network = ir.vbytes('network');
  const chain = decodeChain(ir);
  const n = ir.u16('record count');
  if (n > MAX_JOIN_RECORDS) throw new DecodeError(`join reply: ${n} records`);
  const records: Uint8Array[] = [];
  for (let i = 0; i < n; i++) records.push(ir.vbytes('record'));
  ir.end();
  return { ok: true, network, chain, records };
}

/** Length-prefixed framing for the join stream: u32 length | frame. */
export function frameJoin(frame: Uint8Array): Uint8Array {
  return new Writer().u32(frame.length).bytes(frame).finish();
}

/** Newcomer: its first record, sent after admission on the same connection. */
export function buildJoinRecord(record: Uint8Array): Uint8Array {
  return new Writer().u8(JOIN_VERSION).u8(4).vbytes(record).finish();
}

export function parseJoinRecord(frame: Uint8Array): Uint8Array {
  const r = new Reader(frame, 'join record');
  if (r.u8('version') !== JOIN_VERSION || r.u8('type') !== 4) throw new DecodeError('join record: not a record frame');
  const rec = r.vbytes('record');
  r.end();
  return rec;
}
