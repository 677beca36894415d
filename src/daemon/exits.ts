// Exit nodes in kithd: the effective setting (the config file's `config exit`,
// else what `kith exit` saved), the exit ticks that ping donors and choose one
// (core/exits.ts), and the host side after each netmap (wg/exit-nft.ts): the
// donor's nftables table, the user's SNAT table, exit route and rules.
import type { Platform, Timer } from '../platform/types.ts';
import type { NodeCore, Action } from '../core/node.ts';
import type { Netmap } from '../core/netmap.ts';
import type { ExitUse } from '../core/exits.ts';
import { formatPrefix4 } from '../core/ip.ts';
import { e2ePort } from '../core/network.ts';
import type { Service } from '../core/record.ts';
import { ExitApplier, defaultDevs, donorTable, lanNetworks, userTable } from '../wg/exit-nft.ts';
import type { Logger } from './log.ts';
import type { ExitSettings } from '../uci/settings.ts';

/** How often the exit tick runs (pings go out every EXIT_PING_INTERVAL_MS of it). */
export const EXIT_TICK_MS = 100;
/** A donor's capacity when the config offers an exit without capacity_mbit. */
export const DEFAULT_EXIT_CAPACITY_MBIT = 100;

/** The effective exit setting: offerMbit 0 = no offer; use null = none, 'auto', or a member's name or id. */
export interface ExitConfig { offerMbit: number; use: 'auto' | string | null }

/** What the runtime needs from the mesh. */
export interface ExitHost {
  readonly core: NodeCore;
  dispatch(a: Action[]): void;
  readonly devs: { kith: string; e2e: string };
  readonly runDir: string;
  readonly listenPort: number;
  readonly dnsPort: number | null;
  services(): Service[];
  subnets(): string[];
}

/** Whether the config file sets the exit (offer or use): then it wins and `kith exit` refuses to change it. */
export function exitInConfig(s: ExitSettings): boolean { return s.offer || s.use !== null; }

/** The effective exit setting: the config file's if it sets one, else the saved one. */
export function effectiveExit(s: ExitSettings, saved: ExitConfig | undefined): ExitConfig {
  if (exitInConfig(s)) return { offerMbit: s.offer ? s.capacityMbit ?? DEFAULT_EXIT_CAPACITY_MBIT : 0, use: s.use };
  return saved ?? { offerMbit: 0, use: null };
}

export function coreUse(use: ExitConfig['use']): ExitUse { return use === null ? null : use === 'auto' ? 'auto' : { node: use }; }

export class ExitRuntime {
  private cfg: ExitConfig = { offerMbit: 0, use: null };
  private timer: Timer | null = null;
  private readonly applier: ExitApplier;
  private forwarding = false;
  lastError: string | null = null;

  constructor(private readonly p: Platform, private readonly log: Logger, private readonly host: ExitHost) {
    this.applier = new ExitApplier(p, host.runDir);
  }

  get config(): ExitConfig { return this.cfg; }
  get donorTableName(): string { return `kithx_${this.host.listenPort}`; }
  private get userTableName(): string { return `kithxu_${this.host.listenPort}`; }

  configure(c: ExitConfig): void {
    const now = this.p.clock.nowMs();
    this.cfg = c;
    this.host.core.exits.use = coreUse(c.use);
    this.host.dispatch([...this.host.core.setExitOffer(c.offerMbit, now), ...this.host.core.healthTick(now), { type: 'netmap' }]);
  }

  /** The core's health tick (exit donors and relay hops), every EXIT_TICK_MS; a relay found dead or back is logged. */
  start(): void {
    let dead = new Set<string>();
    const name = (id: string) => this.host.core.nodeById(id)?.chain[0]?.name ?? id;
    this.timer = this.p.clock.every(EXIT_TICK_MS, () => {
      try {
        this.host.dispatch(this.host.core.healthTick(this.p.clock.nowMs()));
        const now = new Set(this.host.core.relayHealth.deadHops);
        for (const id of now) if (!dead.has(id)) this.log.warn(`path: relay ${name(id)} is not answering: paths move around it`);
        for (const id of dead) if (!now.has(id)) this.log.info(`path: relay ${name(id)} answers again`);
        dead = now;
      } catch (e) { this.log.limited('health-tick', 'error', `health tick: ${(e as Error).message}`); }
    });
  }

  stop(): void { this.timer?.cancel(); this.timer = null; }

  /** After each applied netmap; never throws (the error is kept for status and logged). */
  async apply(nm: Netmap): Promise<void> {
    try {
      await this.applyDonor();
      await this.applyUser(nm);
      this.lastError = null;
    } catch (e) {
      this.lastError = (e as Error).message;
      this.log.limited('exit-apply', 'error', `exit: ${this.lastError}`);
    }
  }

  private async wanDev(): Promise<string | null> {
    const r = await this.p.proc.run(['ip', '-4', 'route', 'show', 'default']);
    return defaultDevs(r.stdout)[0] ?? null;
  }

  private async applyDonor(): Promise<void> {
    if (this.cfg.offerMbit <= 0) return this.applier.table('inet', this.donorTableName, null);
    const wan = await this.wanDev();
    if (!wan) throw new Error('offering an exit, but this host has no IPv4 default route to give');
    if (!this.forwarding) {
      const r = await this.p.proc.run(['sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
      if (r.code !== 0) throw new Error(`cannot enable forwarding: ${r.stderr.trim()}`);
      this.forwarding = true;
    }
    const net = this.host.core.network.params;
    const svc = this.host.services().filter((s) => s.host === undefined); // the router's own
    const dns = this.host.dnsPort === null ? [] : [this.host.dnsPort];
    await this.applier.table('inet', this.donorTableName, donorTable(this.donorTableName, {
      devs: [this.host.devs.kith, this.host.devs.e2e], wan, pool: formatPrefix4(net.ipv4Pool), capacityMbit: this.cfg.offerMbit,
      subnets: this.host.subnets(),
      udpPorts: [...new Set([net.controlPort, e2ePort(net), ...dns, ...svc.filter((s) => s.proto === 'udp').map((s) => s.port)])].sort((a, b) => a - b),
      tcpPorts: [...new Set([...dns, ...svc.filter((s) => s.proto === 'tcp').map((s) => s.port)])].sort((a, b) => a - b),
    }));
  }

  private async applyUser(nm: Netmap): Promise<void> {
    if (this.cfg.use === null) {
      await this.applier.rules([]);
      return this.applier.table('ip', this.userTableName, null);
    }
    const wan = await this.wanDev();
    const addrs = await this.p.proc.run(['ip', '-4', '-o', 'addr', 'show']);
    const pool = formatPrefix4(this.host.core.network.params.ipv4Pool);
    const lans = lanNetworks(addrs.stdout, (d) => d === wan || d === 'lo' || d === this.host.devs.kith || d === this.host.devs.e2e);
    const mesh = [pool, ...nm.routes.map((r) => r.prefix).filter((x) => !x.includes(':'))];
    // The exit route first, then the rules that send the LAN to it, then the translation.
    await this.applier.route(nm.exit ? this.host.devs.kith : null);
    await this.applier.rules(lans);
    await this.applier.table('ip', this.userTableName, lans.length
      ? userTable(this.userTableName, { dev: this.host.devs.kith, lans, overlayIPv4: nm.self.ipv4, mesh }) : null);
  }

  /** `exit` in `kith status`. */
  view(nm: Netmap): { offering: boolean; capacityMbit: number; use: string | null; via: string | null; error: string | null } {
    return { offering: this.cfg.offerMbit > 0, capacityMbit: this.cfg.offerMbit, use: this.cfg.use, via: nm.exit?.name ?? null, error: this.lastError };
  }

  /** `kith exits`: every offer this node knows, its own first (with bytes per user, from the donor's counters). */
  async offers(nm: Netmap): Promise<unknown[]> {
    const now = this.p.clock.nowMs();
    const out: unknown[] = [];
    if (this.cfg.offerMbit > 0) {
      const c = await this.applier.counters(this.donorTableName).catch(() => ({ up: new Map<string, number>(), down: new Map<string, number>() }));
      const byIp = new Map(nm.nodes.map((n) => [n.ipv4, n.name]));
      const ips = [...new Set([...c.up.keys(), ...c.down.keys()])].sort();
      out.push({
        node: nm.self.name, id: nm.self.id, self: true, capacityMbit: this.cfg.offerMbit, users: ips.length, healthy: this.lastError === null, chosen: false,
        path: 'self', skipped: null, bytes: ips.map((ip) => ({ user: byIp.get(ip) ?? ip, ipv4: ip, upBytes: c.up.get(ip) ?? 0, downBytes: c.down.get(ip) ?? 0 })),
      });
    }
    for (const o of this.host.core.exitOffers(now)) {
      out.push({ node: o.name, id: o.id, self: false, capacityMbit: o.capacityMbit, users: null, healthy: o.healthy, chosen: o.chosen, path: o.path, skipped: o.skipped, lastPongMsAgo: o.lastPongMsAgo });
    }
    return out;
  }
}
