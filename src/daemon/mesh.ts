// A running membership: NodeCore driven by real time, WireGuard applied from
// its netmap, control datagrams on the overlay, invites, and the TCP join
// listener that admits newcomers with them. Durable state is read from and
// changed through the StateStore; the mesh keeps no copy of it.
import { sleep, type Platform, type UdpSocket, type Timer } from '../platform/types.ts';
import { NodeCore, type Action } from '../core/node.ts';
import { signKeysFromSeed, x25519Public, type SignKeys } from '../core/crypto.ts';
import { fromBase64, toBase64 } from '../core/bytes.ts';
import { decodeCert, type Cert } from '../core/cert.ts';
import { decodeNetwork, e2ePort, ipv6ForIPv4, networkId, transportForIPv4, ula48Text, type SignedNetwork } from '../core/network.ts';
import { newInvite, pruneInvites } from '../core/admit.ts';
import { DEFAULT_CERT_LIFETIME_MS } from '../core/renew.ts';
import { netmapGapMs } from '../core/pacing.ts';
import { encodeInvite } from '../core/invite.ts';
import { formatIPv4, parseIPv4 } from '../core/ip.ts';
import type { Endpoint, Service } from '../core/record.ts';
import type { Netmap, WgPeer } from '../core/netmap.ts';
import { WgApplier, e2eIfname, E2E_MTU, type InterfaceSpec } from '../wg/apply.ts';
import { MeshRoutes } from './routes.ts';
import { configuredEndpoints, lanEndpoints } from './endpoints.ts';
import { E2eNudger } from './e2e-nudge.ts';
import { loadRecords, saveRecords, type Membership } from './state.ts';
import type { StateStore } from './store.ts';
import { JoinListener } from './join-listener.ts';
import { admitJoin } from './admission.ts';
import type { Logger } from './log.ts';
import { SignatureQueue, prefetchSignatures } from './sigqueue.ts';
import { restoreRevocations, saveRevocations } from './revoke.ts';
import { NativeSelfSigner } from './selfsign.ts';
import { saveRenewedChain } from './renewal.ts';
import { ExitRuntime, type ExitConfig } from './exits.ts';
import { PunchRules } from './punch-rules.ts';
import { PathLog } from './path-log.ts';

export const TICK_MS = 1000;
export const LAN_SCAN_MS = 30_000;
export const RECORD_SAVE_DELAY_MS = 2000;
/**
 * After peers change, WireGuard is read this often for this long instead of
 * once a tick: a new session becomes a link in our record (a punched pair
 * direct, a newcomer's endpoint observed) without waiting for ticks.
 */
export const QUICK_OBSERVE_EVERY_MS = 200;
export const QUICK_OBSERVE_MS = 4000;
export const DEFAULT_INVITE_TTL_MS = 24 * 3600_000;
/** How long a punch opener waits for its first initiation to leave before telling the other side anyway. */
export const PUNCH_SENT_WAIT_MS = 2000;
const PUNCH_POLL_MS = 50;

export interface MeshOptions {
  ifname: string;
  listenPort: number;
  runDir: string;
  relay: boolean;
  services: Service[];
  subnets: string[];
  /** Endpoints from the config file ("host:port"), advertised besides those given at init. */
  endpoints: string[];
  /** Called after each applied netmap (DNS rebuilds its index from it). */
  onNetmap?: (nm: Netmap) => void;
  /** Exit offer and use (daemon/exits.ts), and the DNS port a donor leaves open to members. */
  exit?: ExitConfig;
  dnsPort?: number | null;
  /** Outer-interface peers besides the members: this node's plain WireGuard clients (clients.ts). */
  localPeers?: (ula48: Uint8Array) => WgPeer[];
}

export interface InviteOptions { name: string | null; admin: boolean; ttlMs: number }

export class Mesh {
  readonly core: NodeCore;
  readonly applier: WgApplier;
  readonly routes: MeshRoutes;
  readonly exits: ExitRuntime;
  private readonly punchRules: PunchRules;
  private readonly nudger = new E2eNudger();
  private ctrl: UdpSocket | null = null;
  /** Control datagrams in arrival order, their signatures checked natively before the core sees them. */
  readonly ctrlQueue: SignatureQueue;
  /** Control datagrams the socket dropped as longer than it receives (counted with the core's oversize). */
  get ctrlOversize(): number { return this.ctrl?.oversize ?? 0; }
  joinListener: JoinListener | null = null;
  private timers: Timer[] = [];
  private dirty = true;
  private applying = false;
  private applyRun: Promise<void> = Promise.resolve();
  private lastApplyMs = -Infinity; // monotonic: applies start netmapGapMs apart (core/pacing.ts)
  /** Logs each change of the path to a member as applied. */
  private readonly pathLog: PathLog;
  /** Until when WireGuard is read every QUICK_OBSERVE_EVERY_MS (after peers changed), and whether such a read runs. */
  private quickUntilMs = 0;
  private quickRunning = false;
  private saveTimer: Timer | null = null;
  private stopped = false;
  private ready = false;
  readonly signKeys: SignKeys;
  /** Signs the own record natively (absent without WebCrypto: the core signs with tweetnacl). */
  readonly selfSigner: NativeSelfSigner | null;
  readonly spec: InterfaceSpec;
  /** The end-to-end interface: sessions with members reached through a relay (see core/netmap.ts). */
  readonly e2eSpec: InterfaceSpec;
  lastApplyError: string | null = null;
  /** The endpoint the home router maps to our WireGuard port (portmap.ts), advertised with the configured ones. */
  private mapped: Endpoint | null = null;

  private constructor(
    private readonly p: Platform, private readonly log: Logger, private readonly store: StateStore,
    private readonly opts: MeshOptions, network: SignedNetwork, chain: Cert[],
  ) {
    this.pathLog = new PathLog(log);
    this.ctrlQueue = new SignatureQueue(p.crypto, (q) => this.core.signatureChecks({ control: q.data, fromIPv4: q.from }, p.clock.nowMs()), (q) => {
      try {
        this.dispatch(this.core.handleControl(q.data, q.from, p.clock.nowMs()));
      } catch (e) { // the core catches what a member sends; this is a bug, and one datagram must not end kithd
        this.log.limited('control', 'error', `control datagram from ${q.from}: ${(e as Error).message}`);
      }
    });
    const state = store.get();
    this.signKeys = signKeysFromSeed(fromBase64(state.signSeed));
    const wgPriv = fromBase64(state.wgPrivate);
    const leaf = chain[0]!;
    const net = network.params;
    const keys = { privateKey: state.wgPrivate, publicKey: toBase64(x25519Public(wgPriv)), keyDir: opts.runDir };
    const v4 = formatIPv4(leaf.ipv4);
    const v6 = ipv6ForIPv4(net.ula48, leaf.ipv4);
    this.spec = {
      ...keys, ifname: opts.ifname, listenPort: opts.listenPort,
      addresses: [`${v4}/${net.ipv4Pool.len}`, `${v6}/48`, `${transportForIPv4(net.ula48, leaf.ipv4)}/128`],
    };
    this.e2eSpec = { ...keys, ifname: e2eIfname(opts.ifname), listenPort: e2ePort(net), addresses: [`${v4}/32`, `${v6}/128`], mtu: E2E_MTU };
    const configured = configuredEndpoints(this.membership.endpoints, opts.endpoints);
    this.core = new NodeCore({
      network, chain, signKeys: this.signKeys, relay: opts.relay, configuredEndpoints: configured,
      services: opts.services, subnets: opts.subnets, clients: state.clients?.map((c) => c.ipv4), lastSeq: 0, nowMs: p.clock.nowMs(), asyncSign: !!p.crypto,
    });
    this.selfSigner = p.crypto ? new NativeSelfSigner(p.crypto, this.signKeys, () => this.core, () => p.clock.nowMs(), (a) => this.dispatch(a), log) : null;
    this.applier = new WgApplier(p);
    this.routes = new MeshRoutes(p, log, { kith: opts.ifname, e2e: e2eIfname(opts.ifname) }, opts);
    this.punchRules = new PunchRules(p, opts.runDir, opts.listenPort);
    this.exits = new ExitRuntime(p, log, { core: this.core, dispatch: (a) => this.dispatch(a), devs: { kith: opts.ifname, e2e: e2eIfname(opts.ifname) }, runDir: opts.runDir,
      listenPort: opts.listenPort, dnsPort: opts.dnsPort ?? null, services: () => this.opts.services, subnets: () => this.opts.subnets });
  }

  /** The membership as last persisted (read from the store each time). */
  get membership(): Membership {
    const m = this.store.get().membership;
    if (!m) throw new Error('not a member of any network');
    return m;
  }
  get network(): SignedNetwork { return this.core.network; }

  static async start(p: Platform, log: Logger, store: StateStore, opts: MeshOptions): Promise<Mesh> {
    const m = store.get().membership;
    if (!m) throw new Error('not a member of any network');
    const network = decodeNetwork(fromBase64(m.network));
    const chain = m.chain.map((c) => decodeCert(fromBase64(c)));
    const mesh = new Mesh(p, log, store, opts, network, chain);
    restoreRevocations(mesh.core, m);
    // The first own record, before records from the run directory (our cached one among them) and before anything reads it.
    if (mesh.core.signRequest) await mesh.selfSigner?.request(mesh.core.signRequest).catch(() => undefined); // else read: tweetnacl
    const records = (await loadRecords(p.fs, opts.runDir)).map(fromBase64);
    await prefetchSignatures(p.crypto, mesh.core.signatureChecks({ records }, p.clock.nowMs()));
    for (const r of records) mesh.core.acceptRecord(r, p.clock.nowMs());
    try {
      await mesh.bringUp();
    } catch (e) {
      mesh.stop(); // sockets and timers it had opened (the interfaces stay, as on every stop)
      throw e;
    }
    return mesh;
  }

  private async bringUp(): Promise<void> {
    const net = this.network.params;
    await this.p.fs.mkdirp(this.opts.runDir, 0o700);
    await this.applier.ensureInterface(this.spec);
    await this.applier.ensureInterface(this.e2eSpec);
    await this.punchRules.clearLeftovers();
    if (this.opts.relay) {
      for (const k of ['net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1']) {
        const r = await this.p.proc.run(['sysctl', '-q', '-w', k]);
        if (r.code !== 0) this.log.warn(`cannot enable forwarding (${k}): ${r.stderr.trim()}; this node will not relay`);
      }
    }
    const ip = formatIPv4(this.core.certChain[0]!.ipv4);
    this.ctrl = await this.p.udp.bind(ip, net.controlPort);
    this.ctrl.onMessage((data, from) => this.ctrlQueue.push({ data, from: from.address }));
    try {
      const jl = new JoinListener(this.p, this.log, {
        admit: (frame) => admitJoin({
          store: this.store, core: this.core, signKeys: this.signKeys, certLifetimeMs: DEFAULT_CERT_LIFETIME_MS,
          nowMs: () => this.p.clock.nowMs(), random: (n) => this.p.random(n),
        }, frame),
        // The newcomer's first record goes to our neighbours at once: the others need not wait for an anti-entropy round to reach it.
        record: (rec) => this.dispatch(this.core.takeRecords([rec], this.p.clock.nowMs())),
      });
      await jl.listen('0.0.0.0', this.opts.listenPort);
      this.joinListener = jl;
    } catch (e) {
      this.log.warn(`join listener on tcp/${this.opts.listenPort} unavailable: ${(e as Error).message}`);
    }
    this.log.info(`member of "${net.name}" as ${this.core.certChain[0]!.name} ${ip} (${ula48Text(net.ula48)}), interface ${this.spec.ifname} via ${this.applier.backend}`);
    // Learn the live sessions before the first apply: a restarted kithd computes the netmap it left.
    await this.observe();
    await this.scanLan();
    await this.selfSigner?.idle(); // the record with those links and endpoints, before the first apply and anti-entropy answer
    this.ready = true;
    this.exits.configure(this.opts.exit ?? { offerMbit: 0, use: null });
    this.exits.start();
    this.timers.push(this.p.clock.every(TICK_MS, () => this.tick().catch((e: Error) => this.log.limited('tick', 'error', `tick failed: ${e.message}`))));
    this.timers.push(this.p.clock.every(QUICK_OBSERVE_EVERY_MS, () => {
      if (this.quickRunning || this.stopped || this.p.clock.nowMs() >= this.quickUntilMs) return;
      this.quickRunning = true;
      this.observe().then(() => this.apply()).catch((e: Error) => this.log.limited('quick', 'error', `reading WireGuard failed: ${e.message}`)).finally(() => { this.quickRunning = false; });
    }));
    this.timers.push(this.p.clock.every(LAN_SCAN_MS, () => this.scanLan().catch((e: Error) => this.log.limited('lan-scan', 'warn', `cannot read our addresses: ${e.message}`))));
    await this.tick();
  }

  /** Re-reads our addresses now (the WAN changed). */
  refreshEndpoints(): Promise<void> { return this.scanLan(); }

  /** Our addresses (not the overlay) as LAN endpoints (endpoints.ts); all of them as the connected networks no member may take. */
  private async scanLan(): Promise<void> {
    const r = await this.p.proc.run(['ip', '-o', 'addr', 'show']);
    if (r.code !== 0) { this.log.limited('addr-show', 'warn', `cannot list addresses: ${r.stderr.trim()}`); return; }
    const eps = lanEndpoints(r.stdout, this.opts.listenPort, (i) => i === this.spec.ifname || i === this.e2eSpec.ifname || i.startsWith('kith'));
    this.dispatch([...this.core.setConnected(this.routes.hostAddresses(r.stdout)), ...this.core.setLocalEndpoints(eps, this.p.clock.nowMs())]);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    await this.observe();
    // End-to-end peers still without a first handshake are set up afresh (see e2e-nudge.ts).
    if (this.nudger.watching && await this.nudger.nudge(this.applier, this.e2eSpec.ifname, this.p.clock.nowMs())) this.dirty = true;
    this.dispatch(this.core.tick(this.p.clock.nowMs()));
    await this.apply();
  }

  private async observe(): Promise<void> {
    const now = this.p.clock.nowMs();
    try {
      const st = await this.applier.state(this.spec.ifname);
      this.dispatch(this.core.observeWg(st.peers.map((x) => ({
        publicKey: x.publicKey, endpoint: x.endpoint, lastHandshakeMs: x.latestHandshakeSec * 1000, rxBytes: x.rxBytes, txBytes: x.txBytes,
      })), now));
    } catch (e) {
      this.log.limited('wg-state', 'warn', `cannot read WireGuard state: ${(e as Error).message}`);
      await this.recreateIfGone();
    }
  }

  /** The interface vanished (deleted, or wireguard-go died): bring it back and re-apply everything. */
  private async recreateIfGone(): Promise<void> {
    for (const spec of [this.spec, this.e2eSpec]) {
      if (this.stopped || (await this.applier.exists(spec.ifname))) continue;
      this.log.warn(`interface ${spec.ifname} is gone; creating it again`);
      try {
        await this.applier.ensureInterface(spec);
        this.dirty = true;
      } catch (e) {
        this.log.limited('recreate', 'error', `cannot recreate ${spec.ifname}: ${(e as Error).message}`);
      }
    }
  }

  dispatch(actions: Action[]): void {
    for (const a of actions) {
      if (a.type === 'send') {
        this.ctrl?.send(a.bytes, { address: a.to, port: this.network.params.controlPort }).catch((e: Error) =>
          this.log.limited(`send-${a.to}`, 'debug', `control send to ${a.to}: ${e.message}`));
      } else if (a.type === 'netmap') {
        this.dirty = true;
      } else if (a.type === 'sign') {
        void this.selfSigner?.request(a.unsigned).catch((e: Error) => this.log.limited('sign', 'error', `signing our record: ${e.message}`));
      } else if (a.type === 'persist') {
        this.scheduleRecordSave();
      } else if (a.type === 'punch-open') {
        void this.punchOpen(a).catch((e: Error) => this.log.limited('punch', 'warn', `punch toward ${a.host}:${a.port} failed: ${e.message}`));
      } else if (a.type === 'punch-close') {
        void this.punchClose(a.peer).catch((e: Error) => this.log.limited('punch', 'warn', `punch: cannot remove the TTL rule: ${e.message}`));
      } else if (a.type === 'revocations') {
        saveRevocations(this.store, this.core, this.log);
      } else if (a.type === 'chain') {
        saveRenewedChain(this.store, this.core, this.log);
      }
    }
    if (this.dirty && !this.applying && this.ready) void this.apply();
  }

  private scheduleRecordSave(): void {
    if (this.saveTimer) return;
    this.saveTimer = this.p.clock.after(RECORD_SAVE_DELAY_MS, () => {
      this.saveTimer = null;
      void saveRecords(this.p.fs, this.opts.runDir, this.core.allRecords().map((r) => toBase64(r.bytes)))
        .catch((e: Error) => this.log.limited('save-records', 'warn', `cannot save record cache: ${e.message}`));
    });
  }

  /** Applies the netmap to WireGuard and routes; serialised, re-run while dirty. */
  apply(): Promise<void> {
    if (this.applying || this.stopped || !this.ready) return this.applyRun;
    this.applying = true;
    this.applyRun = this.applyLoop();
    return this.applyRun;
  }

  /** Returns once the netmap as it is now has been applied (or applying it failed). */
  async settle(): Promise<void> {
    for (let i = 0; i < 8 && (this.applying || this.dirty) && !this.stopped; i++) {
      await (this.applying ? this.applyRun : this.apply());
    }
  }

  private async applyLoop(): Promise<void> {
    try {
      for (let i = 0; i < 3 && this.dirty && !this.stopped; i++) {
        await sleep(this.p.clock, this.lastApplyMs + netmapGapMs(this.core.allRecords().length) - this.p.clock.monoMs());
        if (this.stopped) break;
        this.lastApplyMs = this.p.clock.monoMs();
        this.dirty = false;
        const nm = this.core.netmap();
        const sec = Math.floor(this.p.clock.nowMs() / 1000);
        // Peers first, then routes (never to an interface without its peer); routes, exits and DNS follow the netmap whatever the peers do.
        const peers = await this.applier.applyPeers(this.spec, [...nm.peers, ...(this.opts.localPeers?.(this.network.params.ula48) ?? [])], sec).catch((e: Error) => e);
        const e2e = await this.applier.applyPeers(this.e2eSpec, nm.e2ePeers, sec).catch(async (e: Error) => {
          await this.recreateIfGone();
          return e;
        });
        this.nudger.track(nm.e2ePeers.map((p) => p.publicKey), this.p.clock.nowMs());
        const hosts = await this.applier.applyHostRoutes(this.e2eSpec.ifname, nm.relayedHosts).catch((e: Error) => e);
        await this.routes.apply(nm);
        await this.exits.apply(nm);
        if (peers === 1 || e2e === 1) {
          this.log.debug(`applied WireGuard peers (${nm.peers.length} direct, ${nm.e2ePeers.length} end to end)`);
          this.quickUntilMs = this.p.clock.nowMs() + QUICK_OBSERVE_MS;
        }
        this.pathLog.note(nm);
        this.opts.onNetmap?.(nm);
        for (const r of [peers, e2e, hosts]) if (r instanceof Error) throw r;
      }
      this.lastApplyError = null;
    } catch (e) {
      this.lastApplyError = (e as Error).message;
      this.dirty = true;
      this.log.limited('apply', 'error', `applying netmap failed: ${(e as Error).message}`);
    } finally {
      this.applying = false;
    }
  }

  netmap(): Netmap { return this.core.netmap(); }

  /**
   * The opener's side of a punch (core/punch.ts): the TTL rule (punch-rules.ts),
   * the peer dialled, and once an initiation has left (our NAT now holds the
   * mapping) the other side told to dial back. The rule stays until the
   * session is up or the attempt fails (punch-close).
   */
  private async punchOpen(a: { peer: string; host: string; port: number; ttl: number }): Promise<void> {
    const name = this.core.nodeById(a.peer)?.chain[0]!.name ?? a.peer;
    await this.punchRules.open(a).catch((e: Error) => this.log.limited('punch-nft', 'warn', `punch: cannot add the TTL rule (${e.message}); trying without it`));
    this.log.info(`punch: opening toward ${name} at ${a.host}:${a.port} (ttl ${a.ttl})`);
    this.dispatch(this.core.punchOpened(a.peer, this.p.clock.nowMs()));
    await this.settle();
    const sent = await this.initiationSent(a.peer);
    this.log.debug(`punch: ${sent ? 'first initiation left' : 'no initiation seen yet'}; telling ${name} to dial`);
    this.dispatch(this.core.punchSignal(a.peer, this.p.clock.nowMs()));
  }

  /** Waits (bounded) until WireGuard reports bytes sent to the peer: its first initiation has left. */
  private async initiationSent(peer: string): Promise<boolean> {
    const pub = this.core.nodeById(peer);
    if (!pub) return false;
    const key = toBase64(pub.chain[0]!.wgPub);
    for (let waited = 0; waited <= PUNCH_SENT_WAIT_MS && !this.stopped; waited += PUNCH_POLL_MS) {
      const st = await this.applier.state(this.spec.ifname).catch(() => null);
      if (st?.peers.some((x) => x.publicKey === key && x.txBytes > 0)) return true;
      await sleep(this.p.clock, PUNCH_POLL_MS);
    }
    return false;
  }

  /** After the attempt: the netmap first (a failed attempt's peer goes), then the TTL rule. */
  private async punchClose(peer: string): Promise<void> { await this.settle(); await this.punchRules.close(peer); }

  // ---- invites and admission ----

  async createInvite(o: InviteOptions): Promise<{ code: string; expiresAtMs: number; endpoints: string[] }> {
    const leaf = this.core.certChain[0]!;
    if (!leaf.pool || (!leaf.admin && this.network.params.policy !== 'any')) {
      throw new Error(`this node may not admit members (network "${this.network.params.name}" lets ${this.network.params.policy === 'any' ? 'any member' : 'admins only'} admit)`);
    }
    const own = this.core.selfRecord.endpoints;
    const endpoints = [...own.filter((e) => e.kind === 'configured'), ...own.filter((e) => e.kind === 'public'), ...own.filter((e) => e.kind === 'lan')]
      .filter((e) => parseIPv4(e.host) !== null || e.host.includes(':'))
      .map((e) => ({ host: e.host, port: this.opts.listenPort }))
      .filter((e, i, all) => all.findIndex((x) => x.host === e.host) === i)
      .slice(0, 4);
    if (!endpoints.length) throw new Error('no address to put in the invite: pass --endpoint at init or wait for a LAN address');
    const now = this.p.clock.nowMs();
    const secret = this.p.random(16);
    const inv = newInvite(secret, { name: o.name, admin: o.admin, nowMs: now, ttlMs: o.ttlMs });
    await this.store.update((cur) => {
      const m = cur.membership;
      if (!m) throw new Error('not a member of any network');
      return { ...cur, membership: { ...m, invites: [...pruneInvites(m.invites, now), inv] } };
    });
    const code = encodeInvite({ networkId: networkId(this.network.params.networkPub), secret, endpoints });
    this.log.info(`invite ${inv.id.slice(0, 8)} created${o.name ? ` for "${o.name}"` : ''}${o.admin ? ' (admin)' : ''}, expires in ${Math.round(o.ttlMs / 60000)} min`);
    return { code, expiresAtMs: inv.expiresAtMs, endpoints: endpoints.map((e) => `${e.host}:${e.port}`) };
  }

  /** Applies changed endpoints, subnets and services from the config without a restart. */
  reconfigure(o: MeshOptions): void {
    const configured = configuredEndpoints(this.membership.endpoints, o.endpoints, this.mapped);
    Object.assign(this.opts, { services: o.services, subnets: o.subnets, endpoints: o.endpoints, relay: o.relay, exit: o.exit });
    if (o.exit) this.exits.configure(o.exit);
    const now = this.p.clock.nowMs();
    this.dispatch([...this.core.setConfigured(configured, o.subnets, o.relay, now), ...this.core.setServices(o.services, now)]);
  }

  setMappedEndpoint(e: Endpoint | null): void {
    if (this.stopped) return;
    this.mapped = e;
    this.dispatch(this.core.setConfigured(configuredEndpoints(this.membership.endpoints, this.opts.endpoints, e), this.opts.subnets, this.opts.relay, this.p.clock.nowMs()));
  }

  setServices(services: Service[]): void { this.opts.services = services; this.dispatch(this.core.setServices(services, this.p.clock.nowMs())); }

  /** Stops timers and sockets but leaves the interface and peers up, so traffic continues. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    this.exits.stop();
    this.saveTimer?.cancel();
    this.ctrl?.close();
    this.ctrlQueue.clear();
    this.selfSigner?.stop();
    this.joinListener?.close();
  }

  /** Saves the record cache now (on shutdown). */
  async flush(): Promise<void> {
    await this.punchRules.clearLeftovers();
    await saveRecords(this.p.fs, this.opts.runDir, this.core.allRecords().map((r) => toBase64(r.bytes)));
  }
}
