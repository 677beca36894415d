// UPnP-IGD on the home router, the I/O part (the wire is core/upnp.ts): the
// SSDP search on the LAN (multicast and straight to the gateway), the
// device description over HTTP, and the SOAP calls. Only the default
// gateway's answers count, each step has a time limit, and what the router
// sends is read up to a bound. Used when the gateway answers neither
// NAT-PMP nor PCP (portmap.ts).
import type { Platform } from '../platform/types.ts';
import {
  MAX_HTTP_BYTES, SSDP_MULTICAST, SSDP_PORT, httpGet, parseDescription, parseHttpResponse, parseSoapResponse, parseSsdpResponse,
  soapRequest, ssdpSearch, type HttpUrl, type WanService,
} from '../core/upnp.ts';
import { isAdvertisableIPv4 } from '../core/portmap.ts';

export const UPNP_SEARCH_MS = 2500;
const HTTP_TIMEOUT_MS = 5000;
/** UPnP error codes AddPortMapping answers that we handle. */
const CONFLICT = 718;
const ONLY_PERMANENT = 725;

export interface UpnpMapping { external: string; externalPort: number; lifetimeSec: number }

export class UpnpClient {
  private service: WanService | null = null;
  private held: number | null = null;

  constructor(private readonly p: Platform, private readonly gateway: string, private readonly client: string, private readonly internalPort: number) {}

  /** Finds the gateway's port-mapping service (once) and maps our port; throws with a one-line reason. */
  async map(lifetimeSec: number): Promise<UpnpMapping> {
    this.service ??= await this.discover();
    const ip = await this.call('GetExternalIPAddress', [], ['NewExternalIPAddress']);
    const external = ip.get('NewExternalIPAddress')!;
    if (!isAdvertisableIPv4(external)) throw new Error(`UPnP: the gateway's external address ${external} is not public (another NAT in front of it)`);
    let lifetime = lifetimeSec;
    // The same external port as ours first, then a few others when it is taken (by another device's mapping).
    for (const port of [this.held ?? this.internalPort, ...[1, 2, 3].map((i) => ((this.internalPort + i * 7919) % 55535) + 10000)]) {
      let r = await this.add(port, lifetime);
      // A router that grants only permanent mappings: permanent, rechecked by the caller.
      if (!r.ok && r.code === ONLY_PERMANENT && lifetime !== 0) r = await this.add(port, (lifetime = 0));
      if (r.ok) { this.held = port; return { external, externalPort: port, lifetimeSec: lifetime }; }
      if (r.code !== CONFLICT) throw new Error(`UPnP: AddPortMapping refused: ${r.code ?? ''} ${r.description}`.replace(/\s+/g, ' '));
    }
    throw new Error('UPnP: every external port tried is mapped to another device');
  }

  private add(port: number, lease: number) {
    return this.soap('AddPortMapping', [['NewRemoteHost', ''], ['NewExternalPort', port], ['NewProtocol', 'UDP'], ['NewInternalPort', this.internalPort],
      ['NewInternalClient', this.client], ['NewEnabled', 1], ['NewPortMappingDescription', `kith ${this.internalPort}`], ['NewLeaseDuration', lease]], []);
  }

  /** Deletes the mapping held, if any (best effort). */
  async remove(): Promise<boolean> {
    if (this.held === null || !this.service) return false;
    const port = this.held;
    this.held = null;
    const r = await this.soap('DeletePortMapping', [['NewRemoteHost', ''], ['NewExternalPort', port], ['NewProtocol', 'UDP']], []).catch(() => null);
    return r?.ok ?? false;
  }

  private async discover(): Promise<WanService> {
    const sock = await this.p.udp.bind(this.client, 0);
    let location: HttpUrl | null = null;
    try {
      const found = new Promise<void>((resolve) => {
        const timer = this.p.clock.after(UPNP_SEARCH_MS, resolve);
        sock.onMessage((data, from) => {
          if (from.address !== this.gateway || location) return;
          try {
            const url = parseSsdpResponse(data);
            if (url.host !== this.gateway) return; // a description elsewhere is not our gateway's
            location = url;
            timer.cancel();
            resolve();
          } catch { /* not an answer we can use */ }
        });
      });
      const search = ssdpSearch();
      await sock.send(search, { address: SSDP_MULTICAST, port: SSDP_PORT }).catch(() => undefined);
      await sock.send(search, { address: this.gateway, port: SSDP_PORT }).catch(() => undefined);
      await found;
    } finally {
      sock.close();
    }
    if (!location) throw new Error('UPnP: no Internet gateway device answered the search');
    const desc = parseHttpResponse(await this.http(location, httpGet(location)));
    if (desc.code !== 200) throw new Error(`UPnP: the device description answered HTTP ${desc.code}`);
    const service = parseDescription(desc.body, location);
    if (service.control.host !== this.gateway) throw new Error('UPnP: the control URL is not on the gateway');
    return service;
  }

  private async call(action: string, args: [string, string | number][], names: string[]): Promise<Map<string, string>> {
    const r = await this.soap(action, args, names);
    if (!r.ok) throw new Error(`UPnP: ${action} refused: ${r.code ?? ''} ${r.description}`.replace(/\s+/g, ' '));
    return r.values;
  }

  private async soap(action: string, args: [string, string | number][], names: string[]) {
    return parseSoapResponse(await this.http(this.service!.control, soapRequest(this.service!, action, args)), names);
  }

  /** One request on its own connection; the answer up to MAX_HTTP_BYTES, read until the router closes. */
  private async http(u: HttpUrl, req: Uint8Array): Promise<Uint8Array> {
    const s = await this.p.tcp.connect(u.host, u.port, HTTP_TIMEOUT_MS);
    const deadline = this.p.clock.after(HTTP_TIMEOUT_MS, () => s.close());
    try {
      await s.write(req);
      const parts: Uint8Array[] = [];
      let n = 0;
      for (let chunk = await s.read(); chunk; chunk = await s.read()) {
        n += chunk.length;
        if (n > MAX_HTTP_BYTES) throw new Error('UPnP: the router\'s answer is too long');
        parts.push(chunk);
      }
      const out = new Uint8Array(n);
      let o = 0;
      for (const c of parts) { out.set(c, o); o += c.length; }
      return out;
    } finally {
      deadline.cancel();
      s.close();
    }
  }
}
