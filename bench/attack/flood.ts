// Attack load for bench/attack.sh, run inside a namespace: control datagrams to
// kithd's control port at a fixed rate for a fixed time.
//   tsx flood.ts <mode> <targetIp> <port> <perSecond> <seconds> [records.json] [name] [sourceIp]
// Modes: junk (random bytes, as any LAN device can send), replay (a member's
// real record with its seq bumped and the old signature, the same datagram each
// time: a signature check unless refused before it), fresh (the same forgery
// with other signature bytes each time, so no cache of failures can help).
// Prints the number of datagrams sent.
/// <reference types="node" />
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { fromBase64 } from '../../src/core/bytes.ts';
import { decodeRecord } from '../../src/core/record.ts';
import { encodeControl } from '../../src/core/gossip.ts';

const [mode, ip, port, rate, secs, file, name, source] = process.argv.slice(2) as string[];
if (!mode || !ip || !port || !rate || !secs) { console.error('usage: flood.ts <junk|replay|fresh> <ip> <port> <perSecond> <seconds> [records.json name] [sourceIp]'); process.exit(2); }

function forgery(): Uint8Array {
  const all = (JSON.parse(readFileSync(file!, 'utf8')) as string[]).map(fromBase64);
  const rec = all.find((b) => decodeRecord(b).chain[0]!.name === name);
  if (!rec) throw new Error(`no record of ${name} in ${file}`);
  const r = rec.slice();
  let off = 2; // past the chain: seq is the u64 that follows it
  for (let i = 0; i < r[1]!; i++) off += 2 + ((r[off]! << 8) | r[off + 1]!);
  r[off + 3] = (r[off + 3]! + 1) & 255; // seq is a u64 of milliseconds: weeks ahead, so no re-signing makes it stale
  return r;
}

const base = mode === 'junk' ? null : forgery();
const next = (): Uint8Array => {
  if (mode === 'junk') return randomBytes(64 + (randomBytes(1)[0]! % 900));
  const r = base!.slice();
  if (mode === 'fresh') r.set(randomBytes(16), r.length - 16);
  return encodeControl({ type: 'records', records: [r] });
};

const sock = createSocket('udp4');
sock.on('error', () => { /* ICMP errors while the target is down: keep the rate */ });
const total = Number(rate) * Number(secs);
let sent = 0;
const t0 = performance.now();
const tick = () => {
  // Catch up to the schedule (timers run late on a busy machine), never ahead of it.
  const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * Number(rate)));
  for (; sent < due; sent++) sock.send(next(), Number(port), ip);
  if (sent < total) setTimeout(tick, 5);
  else setTimeout(() => { sock.close(); console.log(sent); }, 50);
};
const start = () => tick();
if (source) sock.bind(0, source, start); else start();
