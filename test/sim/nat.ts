// A NAT as RFC 4787 describes it, for the simulator: a mapping behaviour
// (endpoint-independent, address-dependent, address-and-port-dependent), a
// filtering behaviour (the same three), hairpinning on or off, and mappings
// that expire when unused. Addresses are "host:port" strings; nothing here
// touches a real network.
//   EIM: one external port per internal endpoint, whatever the destination;
//   ADM: one per internal endpoint and destination address;
//   APDM: one per internal endpoint and destination address and port ("symmetric").
//   EIF: any remote may send to a mapped port; ADF: only addresses the mapping
//   sent to; APDF: only address and port pairs it sent to.
// Like Linux masquerade, a new mapping keeps the internal port when it is free.

export type Mapping = 'EIM' | 'ADM' | 'APDM';
export type Filtering = 'EIF' | 'ADF' | 'APDF';

export interface NatKind { mapping: Mapping; filtering: Filtering; hairpin: boolean }

/** UDP mappings unused for this long are gone (Linux: 30 s unreplied, 120 s once replied; WireGuard keepalives are 25 s). */
export const NAT_TIMEOUT_MS = 60_000;
/** A limit on everything: one NAT's mappings. */
export const MAX_MAPPINGS = 4096;

interface Entry { key: string; internal: string; extPort: number; lastUsedMs: number; sentTo: Set<string>; sentToHost: Set<string> }

export const hostOf = (ep: string) => ep.slice(0, ep.lastIndexOf(':'));
export const portOf = (ep: string) => Number(ep.slice(ep.lastIndexOf(':') + 1));

export class Nat {
  private byKey = new Map<string, Entry>();
  private byPort = new Map<number, Entry>();
  /** Port allocation is seeded, so runs repeat. */
  constructor(readonly publicHost: string, readonly kind: NatKind, private readonly rand: () => number) {}

  private keyFor(internal: string, remote: string): string {
    if (this.kind.mapping === 'EIM') return internal;
    if (this.kind.mapping === 'ADM') return `${internal}|${hostOf(remote)}`;
    return `${internal}|${remote}`;
  }

  private live(e: Entry | undefined, nowMs: number): Entry | undefined {
    if (!e) return undefined;
    if (nowMs - e.lastUsedMs <= NAT_TIMEOUT_MS) return e;
    this.byKey.delete(e.key);
    this.byPort.delete(e.extPort);
    return undefined;
  }

  /** An outbound datagram from `internal` to `remote`: the external endpoint it leaves from, or null when the table is full. */
  outbound(internal: string, remote: string, nowMs: number): string | null {
    const key = this.keyFor(internal, remote);
    let e = this.live(this.byKey.get(key), nowMs);
    if (!e) {
      if (this.byKey.size >= MAX_MAPPINGS) this.expire(nowMs);
      if (this.byKey.size >= MAX_MAPPINGS) return null;
      let port = portOf(internal);
      for (let i = 0; this.live(this.byPort.get(port), nowMs); i++) {
        if (i > 100) return null;
        port = 1024 + Math.floor(this.rand() * 64000);
      }
      e = { key, internal, extPort: port, lastUsedMs: nowMs, sentTo: new Set(), sentToHost: new Set() };
      this.byKey.set(key, e);
      this.byPort.set(port, e);
    }
    e.lastUsedMs = nowMs;
    e.sentTo.add(remote);
    e.sentToHost.add(hostOf(remote));
    return `${this.publicHost}:${e.extPort}`;
  }

  /** An inbound datagram from `remote` to our external port: the internal endpoint it reaches, or null when filtered. */
  inbound(extPort: number, remote: string, nowMs: number): string | null {
    const e = this.live(this.byPort.get(extPort), nowMs);
    if (!e) return null;
    const f = this.kind.filtering;
    if (f === 'ADF' && !e.sentToHost.has(hostOf(remote))) return null;
    if (f === 'APDF' && !e.sentTo.has(remote)) return null;
    e.lastUsedMs = nowMs;
    return e.internal;
  }

  private expire(nowMs: number): void {
    for (const e of [...this.byKey.values()]) this.live(e, nowMs);
  }

  get size(): number { return this.byKey.size; }
}
