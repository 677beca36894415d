// Port mapping on the home router: finds the default gateway (`ip route`),
// owns the UDP socket and the timer that drive core/portmap-client.ts, hands
// the mapped endpoint to the mesh (advertised as configured: members dial it
// unsolicited), logs each change once, and deletes the mapping on stop.
// Where the gateway answers neither NAT-PMP nor PCP, UPnP-IGD (upnp.ts) is
// asked instead, and renewed at half its lease.
import type { Platform, Timer, UdpSocket } from '../platform/types.ts';
import { PortmapClient, type PortmapEvent } from '../core/portmap-client.ts';
import { PCP_NONCE_BYTES, PORTMAP_SERVER_PORT } from '../core/portmap.ts';
import type { Endpoint } from '../core/record.ts';
import type { Logger } from './log.ts';
import { UpnpClient, type UpnpMapping } from './upnp.ts';

/** The UPnP lease asked for; a router that grants only permanent mappings is asked again every UPNP_RECHECK_MS. */
export const UPNP_LEASE_SEC = 7200;
export const UPNP_RECHECK_MS = 30 * 60_000;
/** How long to wait before looking for a gateway again when there is no default route. */
export const PORTMAP_NO_GATEWAY_RETRY_MS = 600_000;
const IP_TIMEOUT_MS = 5000;

export interface PortmapView {
  state: 'mapped' | 'searching' | 'unavailable';
  gateway: string | null;
  protocol: string | null;
  /** "ip:port" members dial. */
  external: string | null;
  expiresInSec: number | null;
  /** Why there is no mapping (null while one is held). */
  reason: string | null;
  /** Replies dropped: malformed, unasked for, or another client's. */
  ignored: number;
}

/** The default route's gateway and our address toward it, from `ip -4 route`; null when there is none. */
export async function defaultGateway(p: Platform): Promise<{ gateway: string; client: string } | null> {
  const r = await p.proc.run(['ip', '-4', 'route', 'show', 'default'], { timeoutMs: IP_TIMEOUT_MS });
  const gateway = r.code === 0 ? /^default via ([0-9.]+)/m.exec(r.stdout)?.[1] : undefined;
  if (!gateway) return null;
  const g = await p.proc.run(['ip', '-4', 'route', 'get', gateway], { timeoutMs: IP_TIMEOUT_MS });
  const client = g.code === 0 ? / src ([0-9.]+)/.exec(g.stdout)?.[1] : undefined;
  return client ? { gateway, client } : null;
}

export class PortMapper {
  private client: PortmapClient | null = null;
  private sock: UdpSocket | null = null;
  private gateway: string | null = null;
  private timer: Timer | null = null;
  private stopped = false;
  private reason: string | null = null;
  /** The last reason logged at info, so a gateway that never answers is logged once. */
  private logged: string | null = null;
  endpoint: Endpoint | null = null;
  private clientAddr: string | null = null;
  private upnp: UpnpClient | null = null;
  private upnpMapping: (UpnpMapping & { expiresAtMs: number }) | null = null;
  private upnpBusy = false;
  private upnpTimer: Timer | null = null;

  constructor(private readonly p: Platform, private readonly log: Logger, readonly port: number, private readonly onEndpoint: (e: Endpoint | null) => void) {}

  /** Looks for the gateway and asks it for a mapping; never throws (failures are logged and retried). */
  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      this.unavailable(`cannot ask the gateway: ${(e as Error).message}`);
      this.arm(this.p.clock.nowMs() + PORTMAP_NO_GATEWAY_RETRY_MS);
    }
  }

  /** (Re)reads the gateway; a new one gets a new socket and client. */
  private async connect(): Promise<void> {
    const gw = await defaultGateway(this.p);
    if (this.stopped) return;
    if (!gw) {
      this.unavailable('no default route with a gateway');
      this.arm(this.p.clock.nowMs() + PORTMAP_NO_GATEWAY_RETRY_MS);
      return;
    }
    if (this.client && this.gateway === gw.gateway) { this.handle(this.client.poll(this.p.clock.nowMs())); return; }
    this.closeSocket();
    void this.dropUpnp();
    this.gateway = gw.gateway;
    this.clientAddr = gw.client;
    this.sock = await this.p.udp.bind(gw.client, 0);
    if (this.stopped) { this.closeSocket(); return; }
    this.sock.onMessage((data, from) => {
      if (from.address !== this.gateway || from.port !== PORTMAP_SERVER_PORT || !this.client) return;
      this.guarded(() => this.handle(this.client!.handleReply(data, this.p.clock.nowMs())));
    });
    this.client = new PortmapClient({ internalPort: this.port, client: gw.client, nonce: this.p.random(PCP_NONCE_BYTES) });
    this.handle(this.client.start(this.p.clock.nowMs()));
  }

  private handle(events: PortmapEvent[]): void {
    for (const ev of events) {
      if (ev.type === 'send') {
        this.sock?.send(ev.bytes, { address: this.gateway!, port: PORTMAP_SERVER_PORT })
          .catch((e: Error) => this.log.limited('portmap-send', 'debug', `portmap: send to ${this.gateway}: ${e.message}`));
      } else if (ev.type === 'mapped') {
        const m = ev.mapping;
        this.reason = null;
        this.logged = null;
        this.log.info(`portmap: ${this.gateway} maps ${m.external}:${m.externalPort} to our port ${this.port} (${m.protocol}, ${m.lifetimeSec} s); advertised to members`);
        this.setEndpoint({ kind: 'configured', host: m.external, port: m.externalPort });
      } else if (ev.type === 'lost') {
        this.log.warn(`portmap: mapping lost: ${ev.reason}`);
        this.setEndpoint(null);
      } else {
        void this.tryUpnp(ev.reason);
      }
    }
    const next = this.client?.nextDeadlineMs();
    if (next != null) this.arm(next);
  }

  /** A reply or a deadline never ends kithd: a failure here (a bug) is logged, rate limited. */
  private guarded(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.log.limited('portmap', 'error', `portmap: ${(e as Error).message}`);
    }
  }

  /** NAT-PMP and PCP got nowhere: a UPnP-IGD mapping, or a renewal of the one held; `why`: what NAT-PMP and PCP said. */
  private async tryUpnp(why: string): Promise<void> {
    if (this.upnpBusy || this.stopped || !this.gateway || !this.clientAddr) return;
    this.upnpBusy = true;
    this.upnpTimer?.cancel();
    try {
      this.upnp ??= new UpnpClient(this.p, this.gateway, this.clientAddr, this.port);
      const m = await this.upnp.map(UPNP_LEASE_SEC);
      if (this.stopped) return;
      const fresh = !this.upnpMapping || this.upnpMapping.external !== m.external || this.upnpMapping.externalPort !== m.externalPort;
      this.upnpMapping = { ...m, expiresAtMs: m.lifetimeSec ? this.p.clock.nowMs() + m.lifetimeSec * 1000 : Infinity };
      this.reason = null;
      this.logged = null;
      if (fresh) this.log.info(`portmap: ${this.gateway} maps ${m.external}:${m.externalPort} to our port ${this.port} (UPnP-IGD, ${m.lifetimeSec ? `${m.lifetimeSec} s` : 'permanent'}); advertised to members`);
      this.setEndpoint({ kind: 'configured', host: m.external, port: m.externalPort });
      const again = m.lifetimeSec ? Math.max(60_000, (m.lifetimeSec * 1000) / 2) : UPNP_RECHECK_MS;
      this.upnpTimer = this.p.clock.after(again, () => { this.upnpTimer = null; void this.tryUpnp(why); });
    } catch (e) {
      if (this.upnpMapping) this.log.warn(`portmap: UPnP mapping lost: ${(e as Error).message}`);
      this.upnpMapping = null;
      this.unavailable(`${why}; ${(e as Error).message}`);
    } finally {
      this.upnpBusy = false;
    }
  }

  /** Deletes a UPnP mapping held (best effort); true when the router confirmed it. */
  private async dropUpnp(): Promise<boolean> {
    this.upnpTimer?.cancel();
    const u = this.upnp;
    this.upnp = null;
    this.upnpMapping = null;
    return (await u?.remove().catch(() => false)) ?? false;
  }

  private unavailable(reason: string): void {
    this.reason = reason;
    this.setEndpoint(null);
    if (this.logged === reason) { this.log.debug(`portmap: ${reason}`); return; }
    this.logged = reason;
    this.log.info(`portmap: ${reason}; no mapped endpoint (asking again in 1 min, then every 10 min)`);
  }

  private setEndpoint(e: Endpoint | null): void {
    const same = e === this.endpoint || (e && this.endpoint && e.host === this.endpoint.host && e.port === this.endpoint.port);
    this.endpoint = e;
    if (!same) this.onEndpoint(e);
  }

  private arm(atMs: number): void {
    this.timer?.cancel();
    if (this.stopped) return;
    this.timer = this.p.clock.after(Math.max(0, atMs - this.p.clock.nowMs()), () => {
      this.timer = null;
      // Between rounds the gateway is looked up again (the WAN or the LAN may have changed).
      if (!this.client || this.client.idle) void this.start();
      else this.guarded(() => this.handle(this.client!.poll(this.p.clock.nowMs())));
    });
  }

  view(): PortmapView {
    const now = this.p.clock.nowMs();
    const u = this.upnpMapping;
    if (u && !this.client?.mapping) {
      return { state: 'mapped', gateway: this.gateway, protocol: 'upnp', external: `${u.external}:${u.externalPort}`,
        expiresInSec: u.expiresAtMs === Infinity ? null : Math.max(0, Math.round((u.expiresAtMs - now) / 1000)), reason: null, ignored: this.client?.ignored ?? 0 };
    }
    const m = this.client?.mapping;
    return {
      state: m ? 'mapped' : this.reason === null || this.client?.idle === false ? 'searching' : 'unavailable',
      gateway: this.gateway, protocol: m?.protocol ?? null, external: m ? `${m.external}:${m.externalPort}` : null,
      expiresInSec: m ? Math.max(0, Math.round((m.expiresAtMs - now) / 1000)) : null, reason: m ? null : this.reason ?? this.client?.reason ?? null, ignored: this.client?.ignored ?? 0,
    };
  }

  /** Deletes the mapping held (lifetime 0, sent once, not awaited for an answer) and closes the socket. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    const dels = this.client?.release() ?? [];
    for (const bytes of dels) await this.sock?.send(bytes, { address: this.gateway!, port: PORTMAP_SERVER_PORT }).catch(() => undefined);
    if (dels.length) this.log.info(`portmap: mapping deleted on ${this.gateway}`);
    if (await this.dropUpnp()) this.log.info(`portmap: UPnP mapping deleted on ${this.gateway}`);
    this.closeSocket();
  }

  private closeSocket(): void {
    this.sock?.close();
    this.sock = null;
    this.client = null;
  }
}
