// Test helper run inside a namespace: re-targets invite codes and sends
// forged gossip, to check that kithd refuses and counts bad input.
//   tsx tool.ts recode <code> <host> <port>
//   tsx tool.ts forge <badsig|stale|unknown|oversize|malformed> <records.json> <nodeName> <targetIp> <controlPort>
//   tsx tool.ts dump <records.json>      one line per record: name, seq, endpoints, links (for diagnostics)
//   tsx tool.ts advertise <stateDir> <targetIp> <controlPort> <subnet>...
//       a hostile member: re-signs its own record (its key, a newer seq) with
//       these subnets, whatever its config allows, and sends it from its
//       overlay address (run with its kithd stopped)
//   tsx tool.ts comeback <revokedStateDir> <fromIp> <targetIp> <controlPort>
//       a revoked node's comeback: its own record re-signed with its key and a
//       newer seq, sent three times from a member's overlay address (fromIp)
/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { decodeInvite, encodeInvite } from '../../src/core/invite.ts';
import { fromBase64 } from '../../src/core/bytes.ts';
import { decodeRecord, encodeRecord } from '../../src/core/record.ts';
import { encodeControl } from '../../src/core/gossip.ts';
import { foundNetwork } from '../../src/core/found.ts';
import { signKeysFromSeed } from '../../src/core/crypto.ts';
import { decodeCert } from '../../src/core/cert.ts';
import { formatIPv4 } from '../../src/core/ip.ts';

const [cmd, ...a] = process.argv.slice(2);

if (cmd === 'dump') {
  const recs = (JSON.parse(readFileSync(a[0]!, 'utf8')) as string[]).map((b) => decodeRecord(fromBase64(b)));
  const names = new Map(recs.map((r) => [r.id, r.chain[0]!.name]));
  for (const r of recs) {
    const eps = r.endpoints.map((e) => `${e.kind}=${e.host}:${e.port}`).join(' ');
    const links = r.links.map((l) => `${names.get(l.peer) ?? l.peer.slice(0, 8)}@${l.rttMs}ms`).join(' ');
    console.log(`${r.chain[0]!.name} seq ${r.seq} relay ${r.relay} endpoints [${eps}] links [${links}]${r.clients?.length ? ` clients [${r.clients.join(" ")}]` : ""}`);
  }
  process.exit(0);
}

function recordOf(file: string, name: string): Uint8Array {
  const all = (JSON.parse(readFileSync(file, 'utf8')) as string[]).map(fromBase64);
  const rec = all.find((b) => decodeRecord(b).chain[0]!.name === name);
  if (!rec) throw new Error(`no record of ${name} in ${file}`);
  return rec;
}

function forged(mode: string, file: string, name: string): Uint8Array {
  switch (mode) {
    case 'badsig': {
      // A newer version of a real record, with the old signature: a forgery that must not win.
      // Its seq is ten minutes ahead of now, so it is newer than any copy the target
      // holds (the file may be older than the target's copy by several re-signs).
      const r = recordOf(file, name).slice();
      let off = 2;
      for (let i = 0; i < r[1]!; i++) off += 2 + ((r[off]! << 8) | r[off + 1]!);
      const view = new DataView(r.buffer, r.byteOffset, r.byteLength);
      view.setBigUint64(off, BigInt(Math.max(Number(view.getBigUint64(off)), Date.now()) + 600_000)); // seq is a u64 at off
      return r;
    }
    case 'stale': return recordOf(file, name);
    case 'unknown': {
      const keys = signKeysFromSeed(randomBytes(32));
      const f = foundNetwork({ name: 'evil', nodeName: name, nodeSignPub: keys.publicKey, nodeWgPub: randomBytes(32), networkSeed: randomBytes(32), nowMs: Date.now() });
      return encodeRecord({ seq: Date.now(), endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] }, f.chain, keys).bytes;
    }
    case 'oversize': { const r = new Uint8Array(1500); r[0] = 1; return r; }
    case 'malformed': return Uint8Array.from([1, 1, 0, 3]);
    default: throw new Error(`unknown forge mode ${mode}`);
  }
}

/** A node's own record from its state directory, re-signed with a newer seq (and these subnets, if given). */
function resigned(dir: string, subnets?: string[]) {
  const state = JSON.parse(readFileSync(`${dir}/state.json`, 'utf8')) as { signSeed: string; membership: { chain: string[] } };
  const keys = signKeysFromSeed(fromBase64(state.signSeed));
  const own = recordOf(`${dir}/run/records.json`, decodeCert(fromBase64(state.membership.chain[0]!)).name);
  const r = decodeRecord(own);
  return encodeRecord({ ...r, seq: Math.max(r.seq + 10_000_000, Date.now()), subnets: subnets ?? r.subnets }, r.chain, keys);
}

/** Sends records three times, a second apart (one lost datagram must not decide a test), from `fromIp`. */
function sendRecords(rec: Uint8Array, fromIp: string, ip: string, port: string): void {
  const sock = createSocket('udp4');
  const msg = encodeControl({ type: 'records', records: [rec] });
  let sent = 0;
  const send = () => sock.send(msg, Number(port), ip, (err) => {
    if (err) { console.error(err.message); process.exit(1); }
    if (++sent < 3) setTimeout(send, 1000); else sock.close();
  });
  sock.bind(0, fromIp, send);
}

if (cmd === 'advertise') {
  const [dir, ip, port, ...subnets] = a as [string, string, string, ...string[]];
  const rec = resigned(dir, subnets);
  sendRecords(rec.bytes, formatIPv4(rec.chain[0]!.ipv4), ip, port);
} else if (cmd === 'comeback') {
  const [dir, fromIp, ip, port] = a as [string, string, string, string];
  sendRecords(resigned(dir).bytes, fromIp, ip, port);
} else if (cmd === 'recode') {
  const c = decodeInvite(a[0]!);
  console.log(encodeInvite({ ...c, endpoints: [{ host: a[1]!, port: Number(a[2]) }] }));
} else if (cmd === 'forge') {
  const [mode, file, name, ip, port] = a as [string, string, string, string, string];
  const msg = encodeControl({ type: 'records', records: [forged(mode, file, name)] });
  const sock = createSocket('udp4');
  sock.send(msg, Number(port), ip, (err) => { sock.close(); if (err) { console.error(err.message); process.exit(1); } });
} else {
  console.error('usage: tool.ts recode|forge ...');
  process.exit(2);
}
