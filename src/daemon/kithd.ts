// kithd: the daemon's composition. Starts with an empty state directory and
// waits; `init` or `join` (through the API) make it a member. Runs in the
// foreground and logs to stdout. SIGTERM/SIGINT stop it without taking the
// WireGuard interface down, so a restart does not interrupt overlay traffic.
import type { Platform, Listener, LogLevel } from '../platform/types.ts';
import { fromBase64, toBase64, utf8Decode } from '../core/bytes.ts';
import { signKeysFromSeed, x25519PrivateFromRandom, x25519Public } from '../core/crypto.ts';
import { foundNetwork, UsageError } from '../core/found.ts';
import { parseHostPort, parsePrefix4, formatPrefix4 } from '../core/ip.ts';
import { isDnsLabel, ula48Text } from '../core/network.ts';
import { ApiError, defaultRunDir, defaultSocketPath } from '../api/protocol.ts';
import { loadState, saveState, saveRecords, type DurableState } from './state.ts';
import { Mesh, DEFAULT_INVITE_TTL_MS, type MeshOptions } from './mesh.ts';
import { joinWithCode, JoinError } from './joiner.ts';
import { serveApi, type ApiHandler } from './api-server.ts';
import { makeLogger, type Logger } from './log.ts';
import { peerList, statusOf } from './views.ts';
import { parseDuration } from '../cli/args.ts';

export interface KithdOptions {
  stateDir: string;
  runDir: string;
  socketPath: string;
  ifname: string;
  listenPort: number;
  logLevel: LogLevel;
  relay: boolean;
}

export class Kithd {
  state: DurableState | null = null;
  mesh: Mesh | null = null;
  private api: Listener | null = null;
  readonly startedMs: number;
  private busy: Promise<unknown> = Promise.resolve();

  constructor(readonly p: Platform, readonly opts: KithdOptions, readonly log: Logger) {
    this.startedMs = p.clock.nowMs();
  }

  private meshOptions(): MeshOptions {
    return { ifname: this.opts.ifname, listenPort: this.opts.listenPort, runDir: this.opts.runDir, relay: this.opts.relay, services: [], subnets: [] };
  }

  private save = async (s: DurableState) => { await saveState(this.p.fs, this.opts.stateDir, s); this.state = s; };

  async start(): Promise<void> {
    const fs = this.p.fs;
    await fs.mkdirp(this.opts.stateDir, 0o700);
    await fs.mkdirp(this.opts.runDir, 0o700);
    const sockDir = this.opts.socketPath.replace(/\/[^/]*$/, '');
    if (sockDir) await fs.mkdirp(sockDir, 0o755);
    this.state = await loadState(fs, this.opts.stateDir);
    if (!this.state) {
      this.state = { version: 1, signSeed: toBase64(this.p.random(32)), wgPrivate: toBase64(x25519PrivateFromRandom(this.p.random(32))), membership: null };
      await this.save(this.state);
      this.log.info(`new node identity created in ${this.opts.stateDir}`);
    }
    this.api = await serveApi(this.p, this.opts.socketPath, this.handlers(), this.log);
    if (this.state.membership) this.mesh = await Mesh.start(this.p, this.log, this.state, this.meshOptions(), this.save);
    else this.log.info(`not a member of any network yet: run "kith init <name>" or "kith join <code>" (api ${this.opts.socketPath})`);
  }

  async stop(): Promise<void> {
    this.mesh?.stop();
    await this.mesh?.flush().catch(() => undefined);
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
        if (this.state!.membership) throw new ApiError('failed', `already a member of network "${this.mesh?.network.params.name}"`);
        const name = str(params, 'network', true)!;
        const nodeName = str(params, 'nodeName') ?? await this.defaultNodeName();
        const endpoint = str(params, 'endpoint');
        if (endpoint && !parseHostPort(endpoint)) throw new ApiError('usage', `invalid --endpoint "${endpoint}": expected host:port`);
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
        const next: DurableState = { ...this.state!, membership: {
          network: toBase64(f.network.bytes), chain: f.chain.map((c) => toBase64(c.bytes)), networkSeed: toBase64(seed),
          alloc: f.alloc, invites: [], endpoints: endpoint ? [endpoint] : [],
        } };
        await this.save(next);
        this.mesh = await Mesh.start(this.p, this.log, next, this.meshOptions(), this.save);
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
      invites: async () => this.requireMesh().membership.invites.map((i) => ({
        id: i.id.slice(0, 8), name: i.name, admin: i.admin, expiresAtMs: i.expiresAtMs, usedBy: i.usedBy,
      })),
      join: (params, progress) => this.serial(async () => {
        if (this.state!.membership) throw new ApiError('failed', `already a member of network "${this.mesh?.network.params.name}"; an invite for another network cannot be used here`);
        const code = str(params, 'code', true)!;
        const nodeName = (str(params, 'nodeName') ?? await this.defaultNodeName()).toLowerCase();
        if (!isDnsLabel(nodeName)) throw new ApiError('usage', `invalid node name "${nodeName}": letters, digits and hyphens`);
        let joined;
        try {
          joined = await joinWithCode(this.p, this.state!, code, nodeName, progress);
        } catch (e) {
          if (e instanceof JoinError) throw new ApiError('failed', e.message);
          throw e;
        }
        progress(`admitted to "${joined.network}" as ${joined.name} (${joined.ipv4}); bringing up the tunnel …`);
        const next: DurableState = { ...this.state!, membership: joined.membership };
        await this.save(next);
        await saveRecords(this.p.fs, this.opts.runDir, joined.records.map((r) => toBase64(r)));
        this.mesh = await Mesh.start(this.p, this.log, next, this.meshOptions(), this.save);
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

export interface KithdArgs { stateDir: string; ifname: string; listenPort: number; logLevel: LogLevel; socket: string | null }

export const KITHD_USAGE = `usage: kithd [--state-dir DIR] [--ifname kith0] [--listen-port 51820] [--socket PATH] [--log-level info]
  KITH_STATE_DIR overrides the state directory (default /etc/kith).`;

export function parseKithdArgs(argv: string[], env: (n: string) => string | undefined): KithdArgs | string {
  const a: KithdArgs = { stateDir: env('KITH_STATE_DIR') ?? '/etc/kith', ifname: 'kith0', listenPort: 51820, logLevel: 'info', socket: null };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i]!;
    const v = argv[i + 1];
    const need = () => { if (v === undefined) throw new Error(`${k} needs a value`); i++; return v; };
    try {
      if (k === '--state-dir') a.stateDir = need();
      else if (k === '--ifname') { a.ifname = need(); if (!/^[A-Za-z0-9_.-]{1,15}$/.test(a.ifname)) return `invalid --ifname "${a.ifname}"`; }
      else if (k === '--listen-port') { const n = Number(need()); if (!Number.isInteger(n) || n < 1 || n > 65535) return `invalid --listen-port "${v}"`; a.listenPort = n; }
      else if (k === '--socket') a.socket = need();
      else if (k === '--log-level') { const l = need(); if (!['debug', 'info', 'warn', 'error'].includes(l)) return `invalid --log-level "${l}"`; a.logLevel = l as LogLevel; }
      else if (k === '-h' || k === '--help') return KITHD_USAGE;
      else return `unknown argument "${k}"`;
    } catch (e) {
      return (e as Error).message;
    }
  }
  return a;
}

/** The daemon's main: parse arguments, start, stop on SIGTERM/SIGINT. */
export async function runKithd(p: Platform): Promise<void> {
  const parsed = parseKithdArgs(p.args, p.env);
  if (typeof parsed === 'string') {
    p.stderr(`kithd: ${parsed}\n${parsed === KITHD_USAGE ? '' : KITHD_USAGE + '\n'}`);
    p.exit(parsed === KITHD_USAGE ? 0 : 2);
  }
  const a = parsed as KithdArgs;
  const log = makeLogger(p, a.logLevel);
  const d = new Kithd(p, {
    stateDir: a.stateDir, runDir: defaultRunDir(a.stateDir, p.env), socketPath: a.socket ?? defaultSocketPath(a.stateDir, p.env),
    ifname: a.ifname, listenPort: a.listenPort, logLevel: a.logLevel, relay: true,
  }, log);
  try {
    await d.start();
  } catch (e) {
    p.stderr(`kithd: ${(e as Error).message}\n`);
    p.exit(1);
  }
  log.info(`kithd running (${p.runtime}), state ${a.stateDir}`);
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`${sig}: stopping (the tunnel stays up)`);
    void d.stop().finally(() => p.exit(0));
  };
  p.onSignal('SIGTERM', () => stop('SIGTERM'));
  p.onSignal('SIGINT', () => stop('SIGINT'));
  p.onSignal('SIGHUP', () => log.info('SIGHUP: configuration reload'));
}
