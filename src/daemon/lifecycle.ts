// kithd's lifecycle: the daemon object that starts with an empty state directory and waits;
// `init` or `join` (methods.ts) make it a member. It owns the state store, the mesh, DNS and both
// front ends (the unix-socket API and the ubus object), and the port mapping on the home router;
// SIGHUP reloads the config and applies the difference; stop() never takes the WireGuard interface
// down, so a restart does not interrupt overlay traffic (it deletes the port mapping).
import type { Platform, Listener } from '../platform/types.ts';
import { configFitError, type Service } from '../core/record.ts';
import { loadConfig, logProblems, summarize, type ConfigOverrides, type LoadedConfig } from '../api/config.ts';
import { MeshDns } from './dns.ts';
import { startUbus, type KithUbus } from './ubus-object.ts';
import { toBase64 } from '../core/bytes.ts';
import { x25519PrivateFromRandom } from '../core/crypto.ts';
import { formatHostPort, isValidIPv4Or6 } from '../core/ip.ts';
import { prefixRefusal } from '../core/prefixes.ts';
import { defaultRunDir, defaultSocketPath } from '../api/protocol.ts';
import type { DurableState } from './state.ts';
import { StateStore } from './store.ts';
import { Mesh, type MeshOptions } from './mesh.ts';
import { effectiveExit } from './exits.ts';
import { e2eIfname } from '../wg/apply.ts';
import { serveApi } from './api-server.ts';
import { methodCaller } from './methods.ts';
import { clientPeers, publishClients } from './clients.ts';
import type { Logger } from './log.ts';
import { PortMapper } from './portmap.ts';
import { ResolvedLink } from './resolved.ts';

export interface KithdOptions {
  configFile: string | null;
  overrides: ConfigOverrides;
  /** Explicit API socket path, else derived from the state directory. */
  socketPath: string | null;
}

export class Kithd {
  /** The single owner of state.json (set by start). */
  store: StateStore | null = null;
  mesh: Mesh | null = null;
  dns: MeshDns | null = null;
  /** Asks the home router to map the WireGuard port (option portmap; portmap.ts). */
  portmap: PortMapper | null = null;
  private ubus: KithUbus | null = null;
  /** The mesh zone in systemd-resolved, where it runs (resolved.ts). */
  private readonly resolved: ResolvedLink;
  private api: Listener | null = null;
  readonly startedMs: number;
  private busy: Promise<unknown> = Promise.resolve();
  stateDir = '';
  runDir = '';
  socketPath = '';

  constructor(readonly p: Platform, readonly opts: KithdOptions, readonly log: Logger, public config: LoadedConfig) {
    this.startedMs = p.clock.nowMs();
    this.resolved = new ResolvedLink(p, log);
  }

  get settings() { return this.config.settings; }
  /** The durable state as last written (read-only; change it through the store). */
  get state(): DurableState | null { return this.store?.get() ?? null; }

  /** Services published by this node: the config file's, then those added with `kith service add`. */
  services(): Service[] {
    return this.servicesWith(this.config);
  }

  private meshOptions(): MeshOptions {
    const s = this.settings;
    return {
      ifname: s.ifname, listenPort: s.listenPort, runDir: this.runDir, relay: true, services: this.services(),
      subnets: s.subnets.map((x) => x.prefix), endpoints: s.endpoints.map((e) => formatHostPort(e.host, e.port)),
      onNetmap: (nm) => this.dns?.update(nm), localPeers: (ula48) => clientPeers(this.state, ula48),
      exit: effectiveExit(s.exit, this.state?.exit), dnsPort: s.dns.enabled ? s.dns.port : null,
    };
  }

  async start(): Promise<void> {
    const fs = this.p.fs;
    this.stateDir = this.settings.stateDir;
    this.runDir = defaultRunDir(this.stateDir, this.p.env);
    this.socketPath = this.opts.socketPath ?? defaultSocketPath(this.stateDir, this.p.env);
    await fs.mkdirp(this.stateDir, 0o700);
    await fs.mkdirp(this.runDir, 0o700);
    const sockDir = this.socketPath.replace(/\/[^/]*$/, '');
    if (sockDir) await fs.mkdirp(sockDir, 0o755);
    const opened = await StateStore.open(fs, this.stateDir, () => ({
      version: 1, signSeed: toBase64(this.p.random(32)), wgPrivate: toBase64(x25519PrivateFromRandom(this.p.random(32))), membership: null,
    }));
    this.store = opened.store;
    if (opened.created) this.log.info(`new node identity created in ${this.stateDir}`);
    // Both front ends serve the one method table (methods.ts).
    const call = methodCaller(this);
    this.api = await serveApi(this.p, this.socketPath, call, this.log);
    this.ubus = await startUbus(this.p, this.log, this.settings.ubusSocket, call, () => void this.mesh?.refreshEndpoints());
    // A write that arrives while the mesh starts (the API already answers) waits for it: it would
    // otherwise change the store behind a mesh not yet there, and no record would carry the change.
    if (this.store.get().membership) await this.serial(() => this.startMesh());
    else this.log.info(`not a member of any network yet: run "kith init <name>" or "kith join <code>" (api ${this.socketPath})`);
  }

  /** A config file's services, then those added with `kith service add` (`added`, default the saved ones). */
  servicesWith(c: LoadedConfig, added: Service[] = this.state?.services ?? []): Service[] {
    const fromConfig = c.settings.services.map((x) => ({ name: x.name, port: x.port, proto: x.proto, type: x.type ?? '', ...(x.host ? { host: x.host } : {}) }));
    return [...fromConfig, ...added.filter((x) => !fromConfig.some((f) => f.name === x.name))];
  }

  /** Why a config's services and subnets (with those added by command) would not fit this node's record. */
  private configMisfit(c: LoadedConfig): string | null {
    if (!this.mesh) return null;
    return configFitError(this.servicesWith(c), c.settings.subnets.map((x) => x.prefix), this.mesh.core.certChain);
  }

  async startMesh(): Promise<void> {
    for (const e of this.settings.endpoints) {
      if (!isValidIPv4Or6(e.host)) this.log.warn(`endpoint ${e.host}:${e.port}: only IP addresses are advertised; this one is left out`);
    }
    this.mesh = await Mesh.start(this.p, this.log, this.store!, this.meshOptions());
    publishClients(this, this.mesh); // a client added or removed while the mesh started
    const misfit = this.configMisfit(this.config);
    if (misfit) this.log.error(`${this.config.file}: ${misfit}; the node record carries what fits (kith status shows what was left out)`);
    for (const s of this.settings.subnets) {
      const refused = prefixRefusal(s.prefix, this.mesh.network.params);
      if (refused) this.log.error(`${this.config.file}: subnet ${s.prefix}: ${refused.reason}; no member routes it (kith config check)`);
    }
    await this.restartDns();
    await this.syncPortmap();
  }

  /** Starts, restarts (another listen port) or stops the port mapping to match the settings. */
  private async syncPortmap(): Promise<void> {
    const want = this.settings.portmap && this.mesh ? this.settings.listenPort : null;
    if (this.portmap && this.portmap.port === want) { this.mesh?.setMappedEndpoint(this.portmap.endpoint); return; }
    await this.portmap?.stop();
    this.portmap = null;
    this.mesh?.setMappedEndpoint(null);
    if (want === null) return;
    this.portmap = new PortMapper(this.p, this.log, want, (e) => this.mesh?.setMappedEndpoint(e));
    void this.portmap.start();
  }

  private async restartDns(): Promise<void> {
    this.dns?.stop();
    this.dns = null;
    const s = this.settings.dns;
    if (!s.enabled || !this.mesh) return this.resolved.unlink();
    this.dns = new MeshDns(this.p, this.log, this.mesh.network.params, this.mesh.netmap());
    const self = this.mesh.netmap().self;
    try {
      await this.dns.start(s, [self.ipv4, self.ipv6]);
    } catch (e) {
      this.log.error(`dns: cannot listen: ${(e as Error).message}; names are not served`);
      return this.resolved.unlink();
    }
    const server = s.listenOverlay ? self.ipv4 : s.listen.find((a) => !a.includes(':'));
    if (server) await this.resolved.link(this.mesh.spec.ifname, server, s.port, this.mesh.network.params.zone);
  }

  private stopMesh(): void {
    this.dns?.stop();
    this.dns = null;
    this.mesh?.stop();
    this.mesh = null;
  }

  /** SIGHUP / procd reload: re-read the config and apply the difference, keeping tunnels up. */
  reload(): Promise<void> {
    return this.serial(() => this.reloadNow());
  }

  /** The reload itself; callers run it in serial() (the `reload` method does, as a write). */
  async reloadNow(): Promise<void> {
    let next: LoadedConfig;
    try {
      next = await loadConfig(this.p, this.opts.configFile, this.opts.overrides, this.mesh?.network.params ?? null);
    } catch (e) {
      this.log.error(`reload: ${(e as Error).message}; keeping the running configuration`);
      return;
    }
    logProblems(next, this.log);
    if (next.errors.length) { this.log.error(`reload: ${next.errors.length} error(s) in ${next.file}; keeping the running configuration`); return; }
    const misfit = this.mesh ? this.configMisfit(next) : null;
    if (misfit) { this.log.error(`reload: ${next.file}: ${misfit}; keeping the running configuration`); return; }
    const before = JSON.stringify(this.settings);
    const running = this.config;
    const old = this.settings;
    this.config = next;
    this.log.level = next.settings.logLevel;
    if (before === JSON.stringify(next.settings)) { this.log.info('reload: configuration unchanged'); return; }
    if (next.settings.stateDir !== old.stateDir) this.log.warn('reload: state_dir changes take effect at the next start');
    this.log.info(`reload: ${summarize(next)}`);
    if (!this.mesh) return;
    if (next.settings.ifname === old.ifname && next.settings.listenPort === old.listenPort) {
      // Endpoints, subnets and services change the node's record in place.
      this.mesh.reconfigure(this.meshOptions());
      if (JSON.stringify(next.settings.dns) !== JSON.stringify(old.dns)) await this.restartDns();
      await this.syncPortmap();
      return;
    }
    const oldIf = old.ifname;
    await this.mesh.flush().catch(() => undefined);
    this.stopMesh();
    // The interface stays up across the swap, so established tunnels carry on.
    try {
      await this.startMesh();
    } catch (e) {
      // The new interface or port cannot be had: the running one comes back (it never went down).
      this.log.error(`reload: cannot start on ${next.settings.ifname} port ${next.settings.listenPort}: ${(e as Error).message}; keeping the running configuration`);
      this.config = running;
      this.log.level = old.logLevel;
      this.stopMesh();
      await this.startMesh();
      return;
    }
    if (oldIf !== next.settings.ifname) {
      for (const i of [oldIf, e2eIfname(oldIf)]) await this.mesh!.applier.removeInterface(i).catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    const mesh = this.mesh;
    const portmap = this.portmap;
    this.portmap = null;
    this.stopMesh();
    await this.resolved.unlink();
    await portmap?.stop().catch(() => undefined);
    await mesh?.flush().catch(() => undefined);
    this.ubus?.close();
    this.api?.close();
  }

  /** Runs membership-changing operations one at a time. */
  serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn);
    this.busy = next.catch(() => undefined);
    return next;
  }
}
