// The zone the DNS tests share: three nodes, ordinary and oversized service
// sets (for truncation), and one service listed under a node that did not
// publish it (which the index must reject).
import type { ZoneInput, ZoneService } from '../../src/dns/zone.ts';
import * as packet from 'dns-packet';
import { Buffer } from 'node:buffer';

const svc = (owner: string, name: string, port: number, proto: 'tcp' | 'udp', type?: string, txt?: string[]): ZoneService =>
  ({ name, port, proto, owner, ...(type ? { type } : {}), ...(txt ? { txt } : {}) });

/** 20 SRV records (~900 bytes: over 512, under 1232) and 40 (over 1232). */
export const BIG_SRV = '_big._tcp.big.node2.example.internal';
export const LARGE_SRV = '_large._tcp.large.node2.example.internal';
/** One TXT RRset of ~1000 bytes. */
export const HUGE_TXT = '_huge._udp.huge.node3.example.internal';

export function fixtureZone(): ZoneInput {
  return {
    zone: 'example.internal',
    ula48: 'fd12:3456:789a::/48',
    ipv4Pool: '100.64.0.0/10',
    soaSerial: 7,
    self: 'node1',
    nodes: [
      { name: 'node1', ipv4: '100.64.0.1', ipv6: 'fd12:3456:789a::1', services: [svc('node1', 'web', 80, 'tcp', 'http', ['path=/'])] },
      {
        name: 'node2', ipv4: '100.64.0.2', ipv6: 'fd12:3456:789a::2', services: [
          ...Array.from({ length: 20 }, (_, i) => svc('node2', 'big', 1000 + i, 'tcp')),
          ...Array.from({ length: 40 }, (_, i) => svc('node2', 'large', 2000 + i, 'tcp')),
        ],
      },
      {
        name: 'node3', ipv4: '100.65.1.3', ipv6: 'fd12:3456:789a::3', services: [
          svc('node3', 'huge', 53, 'udp', undefined, Array.from({ length: 8 }, (_, i) => `k${i}=${'x'.repeat(120)}`)),
          svc('node1', 'evil', 22, 'tcp'),
        ],
      },
    ],
  };
}

/** A query as bytes, built by dns-packet. */
export function query(name: string, type: string, opts: { id?: number; edns?: number; cls?: string } = {}): Uint8Array {
  return new Uint8Array(packet.encode({
    type: 'query', id: opts.id ?? 4242, flags: packet.RECURSION_DESIRED,
    questions: [{ name, type: type as packet.RecordType, class: (opts.cls ?? 'IN') as packet.RecordClass }],
    ...(opts.edns !== undefined ? { additionals: [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns } as packet.Answer] } : {}),
  }));
}

/** dns-packet's decode; its types omit the rcode it sets. */
export function decode(b: Uint8Array): packet.DecodedPacket & { rcode: string } {
  return packet.decode(Buffer.from(b)) as packet.DecodedPacket & { rcode: string };
}
