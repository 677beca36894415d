// kithd: the daemon's composition. Starts with an empty state directory and
// waits; `init` or `join` (through the API) make it a member. Runs in the
// foreground and logs to stdout. SIGTERM/SIGINT stop it without taking the
// WireGuard interface down, so a restart does not interrupt overlay traffic.
import type { Platform, Listener, LogLevel } from '../platform/types.ts';
import { configFitError, MAX_SERVICES, type Service } from '../core/record.ts';
import { loadConfig, logProblems, summarize, ConfigError, type ConfigOverrides, type LoadedConfig } from '../api/config.ts';
import { MeshDns } from './dns.ts';
import { startUbus, type KithUbus } from './ubus-object.ts';
import { fromBase64, toBase64, utf8Decode } from '../core/bytes.ts';
import { signKeysFromSeed, x25519PrivateFromRandom, x25519Public } from '../core/crypto.ts';
import { foundNetwork, UsageError } from '../core/found.ts';
import { parseHostPort, parsePrefix4, formatPrefix4, formatHostPort, isValidIPv4Or6 } from '../core/ip.ts';
import { isDnsLabel, ula48Text } from '../core/network.ts';
import { prefixRefusal } from '../core/prefixes.ts';
import { ApiError, defaultRunDir, defaultSocketPath } from '../api/protocol.ts';
import { saveRecords, type DurableState } from './state.ts';
import { StateStore } from './store.ts';
import { Mesh, DEFAULT_INVITE_TTL_MS, type MeshOptions } from './mesh.ts';
import { e2eIfname } from '../wg/apply.ts';
import { joinWithCode, JoinError } from './joiner.ts';
import { serveApi, type ApiHandler } from './api-server.ts';
import { makeLogger, type Logger } from './log.ts';
import { peerList, statusOf } from './views.ts';
import { parseDuration } from '../api/duration.ts';
import { revoke } from './revoke.ts';

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
  private ubus: KithUbus | null = null;
  private api: Listener | null = null;
  readonly startedMs: number;
  private busy: Promise<unknown> = Promise.resolve();
  stateDir = '';
  runDir = '';
  socketPath = '';

  constructor(readonly p: Platform, readonly opts: KithdOptions, readonly log: Logger, public config: LoadedConfig) {
    this.startedMs = p.clock.nowMs();
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
      onNetmap: (nm) => this.dns?.update(nm),
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
    const handlers = this.handlers();
    this.api = await serveApi(this.p, this.socketPath, handlers, this.log);
    this.ubus = await startUbus(this.p, this.log, this.settings.ubusSocket, handlers, () => void this.mesh?.refreshEndpoints());
    if (this.store.get().membership) await this.startMesh();
    else this.log.info(`not a member of any network yet: run "kith init <name>" or "kith join <code>" (api ${this.socketPath})`);
  }

  /** A config file's services, then those added with `kith service add` (`added`, default the saved ones). */
  private servicesWith(c: LoadedConfig, added: Service[] = this.state?.services ?? []): Service[] {
    const fromConfig = c.settings.services.map((x) => ({ name: x.name, port: x.port, proto: x.proto, type: x.type ?? '' }));
    return [...fromConfig, ...added.filter((x) => !fromConfig.some((f) => f.name === x.name))];
  }

  /** Why a config's services and subnets (with those added by command) would not fit this node's record. */
  private configMisfit(c: LoadedConfig): string | null {
    if (!this.mesh) return null;
    return configFitError(this.servicesWith(c), c.settings.subnets.map((x) => x.prefix), this.mesh.core.certChain);
  }

  private async startMesh(): Promise<void> {
    for (const e of this.settings.endpoints) {
      if (!isValidIPv4Or6(e.host)) this.log.warn(`endpoint ${e.host}:${e.port}: only IP addresses are advertised; this one is left out`);
    }
    this.mesh = await Mesh.start(this.p, this.log, this.store!, this.meshOptions());
    const misfit = this.configMisfit(this.config);
    if (misfit) this.log.error(`${this.config.file}: ${misfit}; the node record carries what fits (kith status shows what was left out)`);
    for (const s of this.settings.subnets) {
      const refused = prefixRefusal(s.prefix, this.mesh.network.params);
      if (refused) this.log.error(`${this.config.file}: subnet ${s.prefix}: ${refused.reason}; no member routes it (kith config check)`);
    }
    await this.restartDns();
  }

  private async restartDns(): Promise<void> {
    this.dns?.stop();
    this.dns = null;
    const s = this.settings.dns;
    if (!s.enabled || !this.mesh) return;
    this.dns = new MeshDns(this.p, this.log, this.mesh.network.params, this.mesh.netmap());
    const self = this.mesh.netmap().self;
    try {
      await this.dns.start(s, [self.ipv4, self.ipv6]);
    } catch (e) {
      this.log.error(`dns: cannot listen: ${(e as Error).message}; names are not served`);
    }
  }

  private stopMesh(): void {
    this.dns?.stop();
    this.dns = null;
    this.mesh?.stop();
    this.mesh = null;
  }

  /** SIGHUP / procd reload: re-read the config and apply the difference, keeping tunnels up. */
  async reload(): Promise<void> {
    return this.serial(async () => {
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
    });
  }

  async stop(): Promise<void> {
    const mesh = this.mesh;
    this.stopMesh();
    await mesh?.flush().catch(() => undefined);
    this.ubus?.close();
    this.api?.close();
  }

  /** Runs membership-changing operations one at a time. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.busy.then(fn, fn);
    this.busy = next.catch(() => undefined);
    return next;
  }

  private requireMesh(): Mesh {
    if (!this.mesh) throw new ApiError('failed', 'not a member of any network: run "kith init <name>" or "kith join <code>"');
    return this.mesh;
  }

  private async defaultNodeName(): Promise<string> {
    try {
      const h = utf8Decode(await this.p.fs.readFile('/proc/sys/kernel/hostname')).trim().toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
      if (isDnsLabel(h)) return h;
    } catch { /* fall through */ }
    return 'node';
  }

  handlers(): Record<string, ApiHandler> {
    return {
      status: async () => statusOf(this),
      peers: async () => peerList(this),
      init: (params) => this.serial(async () => {
        const alreadyMember = () => new ApiError('failed', `already a member of network "${this.mesh?.network.params.name}"`);
        if (this.state!.membership) throw alreadyMember();
        const name = str(params, 'network', true)!;
        const nodeName = str(params, 'nodeName') ?? this.settings.nodeName ?? await this.defaultNodeName();
        const endpoint = str(params, 'endpoint');
        const hp = endpoint ? parseHostPort(endpoint) : null;
        if (endpoint && (!hp || !isValidIPv4Or6(hp.host))) throw new ApiError('usage', `invalid --endpoint "${endpoint}": expected address:port, e.g. 203.0.113.7:51820`);
        const poolText = str(params, 'pool');
        const pool = poolText ? parsePrefix4(poolText) : undefined;
        if (pool === null) throw new ApiError('usage', `invalid --pool "${poolText}": expected an IPv4 prefix such as 100.64.0.0/10`);
        const policy = str(params, 'policy');
        if (policy && policy !== 'admins' && policy !== 'any') throw new ApiError('usage', `invalid --policy "${policy}": admins or any`);
        const seed = this.p.random(32);
        const sign = signKeysFromSeed(fromBase64(this.state!.signSeed));
        let f;
        try {
          f = foundNetwork({ name, zone: str(params, 'zone') ?? undefined, ipv4Pool: pool, policy: (policy as 'admins' | 'any' | null) ?? 'admins', nodeName,
            nodeSignPub: sign.publicKey, nodeWgPub: x25519Public(fromBase64(this.state!.wgPrivate)), networkSeed: seed, nowMs: this.p.clock.nowMs() });
        } catch (e) {
          if (e instanceof UsageError) throw new ApiError('usage', e.message);
          throw e;
        }
        await this.store!.update((cur) => {
          if (cur.membership) throw alreadyMember();
          return { ...cur, membership: {
            network: toBase64(f.network.bytes), chain: f.chain.map((c) => toBase64(c.bytes)), networkSeed: toBase64(seed),
            alloc: f.alloc, invites: [], endpoints: endpoint ? [endpoint] : [],
          } };
        });
        await this.startMesh();
        const net = f.network.params;
        this.log.info(`created network "${net.name}" (zone ${net.zone}, ${formatPrefix4(net.ipv4Pool)}, ${ula48Text(net.ula48)})`);
        return statusOf(this);
      }),
      invite: (params) => this.serial(async () => {
        const mesh = this.requireMesh();
        const expires = str(params, 'expires') ?? '24h';
        const ttlMs = parseDuration(expires);
        if (ttlMs === null || ttlMs <= 0) throw new ApiError('usage', `invalid --expires "${expires}": use e.g. 30m, 24h, 7d`);
        const name = str(params, 'name');
        if (name !== null && !isDnsLabel(name.toLowerCase())) throw new ApiError('usage', `invalid --name "${name}": letters, digits and hyphens`);
        try {
          return await mesh.createInvite({ name: name?.toLowerCase() ?? null, admin: params['admin'] === true, ttlMs: ttlMs ?? DEFAULT_INVITE_TTL_MS });
        } catch (e) {
          throw new ApiError('failed', (e as Error).message);
        }
      }),
      'service.list': async () => this.services(),
      'service.add': (params) => this.serial(async () => {
        const name = (str(params, 'name', true) ?? '').toLowerCase();
        const port = Number(params['port']);
        const proto = str(params, 'proto') ?? 'tcp';
        const type = (str(params, 'type') ?? '').toLowerCase();
        if (!isDnsLabel(name)) throw new ApiError('usage', `invalid service name "${name}": letters, digits and hyphens`);
        if (!Number.isInteger(port) || port < 1 || port > 65535) throw new ApiError('usage', `invalid port "${String(params['port'])}": 1-65535`);
        if (proto !== 'tcp' && proto !== 'udp') throw new ApiError('usage', `invalid --proto "${proto}": tcp or udp`);
        if (type && !isDnsLabel(type)) throw new ApiError('usage', `invalid --type "${type}": letters, digits and hyphens`);
        if (this.settings.services.some((x) => x.name === name)) throw new ApiError('failed', `service "${name}" is defined in ${this.config.file}; change it there`);
        await this.store!.update((cur) => {
          const next = [...(cur.services ?? []).filter((x) => x.name !== name), { name, port, proto: proto as 'tcp' | 'udp', type }];
          const all = this.servicesWith(this.config, next);
          const misfit = this.mesh
            ? configFitError(all, this.settings.subnets.map((x) => x.prefix), this.mesh.core.certChain)
            : all.length > MAX_SERVICES ? `too many services (at most ${MAX_SERVICES})` : null;
          if (misfit) throw new ApiError('failed', `cannot add service "${name}": ${misfit}`);
          return { ...cur, services: next };
        });
        this.mesh?.setServices(this.services());
        return this.services();
      }),
      'service.rm': (params) => this.serial(async () => {
        const name = (str(params, 'name', true) ?? '').toLowerCase();
        if (this.settings.services.some((x) => x.name === name)) throw new ApiError('failed', `service "${name}" is defined in ${this.config.file}; remove it there`);
        await this.store!.update((cur) => {
          const mine = cur.services ?? [];
          if (!mine.some((x) => x.name === name)) throw new ApiError('not-found', `no service "${name}"`);
          return { ...cur, services: mine.filter((x) => x.name !== name) };
        });
        this.mesh?.setServices(this.services());
        return this.services();
      }),
      reload: async () => { await this.reload(); return statusOf(this); },
      revoke: (params) => this.serial(() => revoke(this.requireMesh(), this.store!, this.log, params, this.p.clock.nowMs())),
      invites: async () => this.requireMesh().membership.invites.map((i) => ({
        id: i.id.slice(0, 8), name: i.name, admin: i.admin, expiresAtMs: i.expiresAtMs, usedBy: i.usedBy,
      })),
      join: (params, progress) => this.serial(async () => {
        if (this.state!.membership) throw new ApiError('failed', `already a member of network "${this.mesh?.network.params.name}"; an invite for another network cannot be used here`);
        const code = str(params, 'code', true)!;
        const nodeName = (str(params, 'nodeName') ?? this.settings.nodeName ?? await this.defaultNodeName()).toLowerCase();
        if (!isDnsLabel(nodeName)) throw new ApiError('usage', `invalid node name "${nodeName}": letters, digits and hyphens`);
        let joined;
        try {
          joined = await joinWithCode(this.p, this.state!, code, nodeName, progress);
        } catch (e) {
          if (e instanceof JoinError) throw new ApiError('failed', e.message);
          throw e;
        }
        progress(`admitted to "${joined.network}" as ${joined.name} (${joined.ipv4}); bringing up the tunnel …`);
        await this.store!.update((cur) => {
          if (cur.membership) throw new ApiError('failed', 'already a member of a network');
          return { ...cur, membership: joined.membership };
        });
        await saveRecords(this.p.fs, this.runDir, joined.records.map((r) => toBase64(r)));
        await this.startMesh();
        return statusOf(this);
      }),
    };
  }
}

function str(params: Record<string, unknown>, key: string, required = false): string | null {
  const v = params[key];
  if (v === undefined || v === null || v === '') {
    if (required) throw new ApiError('usage', `missing "${key}"`);
    return null;
  }
  if (typeof v !== 'string') throw new ApiError('usage', `"${key}" must be a string`);
  return v;
}

export interface KithdArgs { configFile: string | null; overrides: ConfigOverrides; socket: string | null }

export const KITHD_USAGE = `usage: kithd [--config FILE] [--state-dir DIR] [--ifname kith0] [--listen-port 51820]
             [--dns-port N] [--socket PATH] [--ubus-socket PATH] [--log-level info]
  Flags override the config file (UCI, e.g. /etc/config/kith). KITH_STATE_DIR overrides
  the state directory (default /etc/kith). SIGHUP reloads the config file.`;

export function parseKithdArgs(argv: string[], env: (n: string) => string | undefined): KithdArgs | string {
  const a: KithdArgs = { configFile: null, overrides: {}, socket: null };
  const envDir = env('KITH_STATE_DIR');
  if (envDir) a.overrides.stateDir = envDir;
  const port = (k: string, v: string) => { const n = Number(v); if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`invalid ${k} "${v}": a port 1-65535`); return n; };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const need = () => { const v = argv[i + 1]; if (v === undefined) throw new Error(`${k} needs a value`); i++; return v; };
    try {
      if (k === '--config') a.configFile = need();
      else if (k === '--state-dir') a.overrides.stateDir = need();
      else if (k === '--ifname') { const v = need(); if (!/^[A-Za-z0-9_.-]{1,15}$/.test(v)) return `invalid --ifname "${v}"`; a.overrides.ifname = v; }
      else if (k === '--listen-port') a.overrides.listenPort = port(k, need());
      else if (k === '--dns-port') a.overrides.dnsPort = port(k, need());
      else if (k === '--socket') a.socket = need();
      else if (k === '--ubus-socket') a.overrides.ubusSocket = need();
      else if (k === '--log-level') { const l = need(); if (!['debug', 'info', 'warn', 'error'].includes(l)) return `invalid --log-level "${l}"`; a.overrides.logLevel = l as LogLevel; }
      else if (k === '-h' || k === '--help') return KITHD_USAGE;
      else return `unknown argument "${k}"`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  return a;
}

/** The daemon's main: parse arguments, read the config, start, stop on SIGTERM/SIGINT, reload on SIGHUP. */
/**
 * The crash policy: what a remote peer, a LAN device or a failed command can
 * cause is caught where it happens, logged (rate limited) and counted; only a
 * state kithd cannot serve from (no mesh, a bug) ends it, with exit status 1,
 * so procd restarts it.
 */
export function fatal(p: Platform, log: Logger, msg: string): never {
  log.error(`fatal: ${msg}; exiting so the service manager restarts kithd`);
  return p.exit(1);
}

export async function runKithd(p: Platform): Promise<void> {
  const parsed = parseKithdArgs(p.args, p.env);
  if (typeof parsed === 'string') {
    p.stderr(`kithd: ${parsed}\n${parsed === KITHD_USAGE ? '' : KITHD_USAGE + '\n'}`);
    p.exit(parsed === KITHD_USAGE ? 0 : 2);
  }
  const a = parsed as KithdArgs;
  let config: LoadedConfig;
  try {
    config = await loadConfig(p, a.configFile, a.overrides);
  } catch (e) {
    p.stderr(`kithd: ${(e as Error).message}\n`);
    p.exit(1);
  }
  const log = makeLogger(p, config!.settings.logLevel, p.env('KITH_LOG_TIME') === '1');
  logProblems(config!, log);
  if (config!.errors.length) {
    p.stderr(`kithd: ${config!.errors.length} error(s) in ${config!.file}; fix them (kith config check) and start again\n`);
    p.exit(1);
  }
  if (!config!.settings.enabled) {
    log.info(`disabled in ${config!.file} (option enabled '0'); exiting`);
    p.exit(0);
  }
  log.info(summarize(config!));
  const d = new Kithd(p, { configFile: a.configFile, overrides: a.overrides, socketPath: a.socket }, log, config!);
  try {
    await d.start();
  } catch (e) {
    p.stderr(`kithd: ${e instanceof ConfigError ? e.message : (e as Error).message}\n`);
    p.exit(1);
  }
  log.info(`kithd running (${p.runtime}), state ${d.stateDir}`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping (the tunnel stays up)`);
    void d.stop().finally(() => p.exit(0));
  };
  p.onSignal('SIGTERM', () => stop('SIGTERM'));
  p.onSignal('SIGINT', () => stop('SIGINT'));
  p.onSignal('SIGHUP', () => {
    log.info('SIGHUP: reloading configuration');
    // A reload that fails keeps the running configuration; one that cannot even restore it leaves no mesh: procd restarts us.
    d.reload().catch((e: Error) => fatal(p, log, `reload left no running mesh: ${e.message}`));
  });
}
