// kithd's methods: one table serves both front ends, the unix-socket API (`kith`) and the ubus
// object `kith` (rpcd, LuCI). Each entry holds the method's names, its argument policy, whether
// it changes state, and its handler; the argument check and the one-at-a-time rule for changes
// live here once, so both front ends accept and refuse exactly the same calls.
import { configFitError, MAX_SERVICES, type Service } from '../core/record.ts';
import { fromBase64, toBase64, utf8Decode } from '../core/bytes.ts';
import { signKeysFromSeed, x25519Public } from '../core/crypto.ts';
import { foundNetwork, UsageError } from '../core/found.ts';
import { parseHostPort, parseIPv4, parsePrefix4, formatPrefix4, isValidIPv4Or6 } from '../core/ip.ts';
import { lanOf } from '../core/prefixes.ts';
import { isDnsLabel, ula48Text } from '../core/network.ts';
import { ApiError } from '../api/protocol.ts';
import { parseDuration } from '../api/duration.ts';
import { saveRecords } from './state.ts';
import type { Mesh } from './mesh.ts';
import { joinWithCode, JoinError } from './joiner.ts';
import { peerList, statusOf } from './views.ts';
import { revoke } from './revoke.ts';
import { addClient, listClients, removeClient } from './clients.ts';
import type { Kithd } from './lifecycle.ts';
import { exitList, exitOffer, exitUse } from './exit-methods.ts';
import { inviteList, removeInvite } from './invites.ts';

/** An argument's type: a JSON string / integer / boolean on the socket, blobmsg string / int32 / bool on ubus. */
export type ArgType = 'string' | 'int' | 'bool';

export type Progress = (line: string) => void;

export interface MethodSpec {
  /** The name `kith` calls over the unix socket. */
  api: string;
  /** The name on the ubus object `kith`, if it is not `api`. */
  ubus?: string;
  /**
   * Every argument the method takes, with its type; all are optional here (a handler refuses a
   * missing one it needs). Any other argument, or one of another type, is refused before the
   * handler runs. An argument given as null counts as absent. Limits (ranges, name syntax) are
   * the handler's, and the same on both front ends.
   */
  args: Readonly<Record<string, ArgType>>;
  /**
   * true: changes the node's state or configuration; runs one at a time with the other writes,
   * and over ubus needs rpcd's write ACL (luci-app-kith.json lists it under "write").
   * Absent: reports only; runs at once, read ACL.
   */
  write?: true;
  /** ubus answers with a table: a list result is wrapped under this key. */
  wrap?: string;
  /** The handler; its result (or what its promise resolves to) is the answer. */
  run(d: Kithd, params: Record<string, unknown>, progress: Progress): unknown;
}

/**
 * The methods, in the order the ubus object announces them. Adding a method means adding one
 * entry here: both front ends, the argument check and the write serialisation follow from it
 * (and LuCI needs its ubus name in the ACL's read or write list, as `write` says).
 */
export const METHODS: readonly MethodSpec[] = [
  { api: 'status', args: {}, run: statusOf },
  { api: 'peers', args: {}, wrap: 'peers', run: peerList },
  {
    api: 'invites', args: {}, wrap: 'invites', run: async (d) => { requireMesh(d); return inviteList(d); },
  },
  { api: 'invite.rm', ubus: 'invite_rm', args: { id: 'string' }, write: true, wrap: 'invites', run: (d, params) => { requireMesh(d); return removeInvite(d, params); } },
  {
    api: 'invite', args: { name: 'string', expires: 'string', admin: 'bool' }, write: true,
    async run(d, params) {
      const mesh = requireMesh(d);
      const expires = str(params, 'expires') ?? '24h';
      const ttlMs = parseDuration(expires);
      if (ttlMs === null || ttlMs <= 0) throw usage(`invalid --expires "${expires}": use e.g. 30m, 24h, 7d`);
      const name = str(params, 'name');
      if (name !== null && !isDnsLabel(name.toLowerCase())) throw usage(`invalid --name "${name}": letters, digits and hyphens`);
      try {
        return await mesh.createInvite({ name: name?.toLowerCase() ?? null, admin: params['admin'] === true, ttlMs });
      } catch (e) {
        throw failed((e as Error).message);
      }
    },
  },
  { api: 'join', args: { code: 'string', nodeName: 'string' }, write: true, run: join },
  {
    api: 'init', write: true, run: init,
    args: { network: 'string', nodeName: 'string', endpoint: 'string', zone: 'string', pool: 'string', policy: 'string' },
  },
  { api: 'service.list', ubus: 'services', args: {}, wrap: 'services', run: (d) => d.services() },
  {
    api: 'service.add', ubus: 'service_add', args: { name: 'string', port: 'int', proto: 'string', type: 'string', host: 'string' },
    write: true, wrap: 'services', run: serviceAdd,
  },
  {
    api: 'service.rm', ubus: 'service_rm', args: { name: 'string' }, write: true, wrap: 'services',
    async run(d, params) {
      const name = str(params, 'name', true)!.toLowerCase();
      if (d.settings.services.some((x) => x.name === name)) throw failed(`service "${name}" is defined in ${d.config.file}; remove it there`);
      await d.store!.update((cur) => {
        const mine = cur.services ?? [];
        if (!mine.some((x) => x.name === name)) throw new ApiError('not-found', `no service "${name}"`);
        return { ...cur, services: mine.filter((x) => x.name !== name) };
      });
      return publishServices(d);
    },
  },
  { api: 'reload', args: {}, write: true, run: async (d) => { await d.reloadNow(); return statusOf(d); } },
  { api: 'revoke', args: { node: 'string', dryRun: 'bool' }, write: true, run: (d, params) => revoke(requireMesh(d), d.store!, d.log, params, d.p.clock.nowMs()) },
  { api: 'client.list', ubus: 'clients', args: {}, wrap: 'clients', run: (d) => listClients(d, d.mesh) },
  { api: 'client.add', ubus: 'client_add', args: { name: 'string', exit: 'bool', publicKey: 'string' }, write: true, run: (d, params) => addClient(d, requireMesh(d), params) },
  { api: 'client.rm', ubus: 'client_rm', args: { name: 'string' }, write: true, wrap: 'clients', run: removeClient },
  { api: 'exit.offer', ubus: 'exit_offer', args: { capacityMbit: 'int', off: 'bool' }, write: true, run: exitOffer },
  { api: 'exit.use', ubus: 'exit_use', args: { node: 'string' }, write: true, run: exitUse },
  { api: 'exits', args: {}, wrap: 'exits', run: exitList },
];

/** How a front end runs a method of the table for a caller. */
export type MethodCall = (spec: MethodSpec, params: Record<string, unknown>, progress: Progress) => Promise<unknown>;

/** Runs methods on a daemon: the arguments are checked, then the handler runs (a write after the writes before it). */
export function methodCaller(d: Kithd): MethodCall {
  return async (spec, params, progress) => {
    checkArgs(spec, params);
    const run = async () => spec.run(d, params, progress);
    return spec.write ? d.serial(run) : run();
  };
}

/** The caller's mistake (INVALID_ARGUMENT on ubus). */
const usage = (message: string) => new ApiError('usage', message);
/** The operation could not be done (on ubus, an answer with `error`). */
const failed = (message: string) => new ApiError('failed', message);

/** The JavaScript type of each argument type's values ('int' also needs an integer). */
const JS_TYPE: Record<ArgType, string> = { string: 'string', int: 'number', bool: 'boolean' };

/** Refuses (usage) an argument the method does not take, or one of another type. */
export function checkArgs(spec: MethodSpec, params: Record<string, unknown>): void {
  for (const key in params) {
    const v = params[key];
    const type = Object.hasOwn(spec.args, key) && spec.args[key];
    if (!type) throw usage(`unknown argument "${key}" (takes ${Object.keys(spec.args).join(', ') || 'none'})`);
    if (v != null && (typeof v !== JS_TYPE[type] || (type === 'int' && !Number.isInteger(v)))) {
      throw usage(`"${key}" must be ${type === 'int' ? 'an integer' : `a ${JS_TYPE[type]}`}`);
    }
  }
}

/** A string argument (checkArgs has checked its type); absent, null and '' are null. */
function str(params: Record<string, unknown>, key: string, required = false): string | null {
  const v = params[key] as string | null | undefined;
  if (v === undefined || v === null || v === '') {
    if (required) throw usage(`missing "${key}"`);
    return null;
  }
  return v;
}

function requireMesh(d: Kithd): Mesh {
  if (!d.mesh) throw failed('not a member of any network: run "kith init <name>" or "kith join <code>"');
  return d.mesh;
}

/** The node name asked for, else the config's, else the host name if it is a DNS label, else "node". */
async function nodeNameOf(d: Kithd, params: Record<string, unknown>): Promise<string> {
  const asked = str(params, 'nodeName') ?? d.settings.nodeName;
  if (asked !== null) return asked;
  try {
    const h = utf8Decode(await d.p.fs.readFile('/proc/sys/kernel/hostname')).trim().toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '');
    if (isDnsLabel(h)) return h;
  } catch { /* fall through */ }
  return 'node';
}

/** Puts the node's services in its record; answers with them. */
function publishServices(d: Kithd): Service[] {
  d.mesh?.setServices(d.services());
  return d.services();
}

async function init(d: Kithd, params: Record<string, unknown>): Promise<unknown> {
  const alreadyMember = () => failed(`already a member of network "${d.mesh?.network.params.name}"`);
  if (d.state!.membership) throw alreadyMember();
  const name = str(params, 'network', true)!;
  const nodeName = await nodeNameOf(d, params);
  const endpoint = str(params, 'endpoint');
  const hp = endpoint ? parseHostPort(endpoint) : null;
  if (endpoint && (!hp || !isValidIPv4Or6(hp.host))) throw usage(`invalid --endpoint "${endpoint}": expected address:port, e.g. 203.0.113.7:51820`);
  const poolText = str(params, 'pool');
  const pool = poolText ? parsePrefix4(poolText) : undefined;
  if (pool === null) throw usage(`invalid --pool "${poolText}": expected an IPv4 prefix such as 100.64.0.0/10`);
  const policy = str(params, 'policy');
  if (policy && policy !== 'admins' && policy !== 'any') throw usage(`invalid --policy "${policy}": admins or any`);
  const seed = d.p.random(32);
  const sign = signKeysFromSeed(fromBase64(d.state!.signSeed));
  let f;
  try {
    f = foundNetwork({ name, zone: str(params, 'zone') ?? undefined, ipv4Pool: pool, policy: (policy as 'admins' | 'any' | null) ?? 'admins', nodeName,
      nodeSignPub: sign.publicKey, nodeWgPub: x25519Public(fromBase64(d.state!.wgPrivate)), networkSeed: seed, nowMs: d.p.clock.nowMs() });
  } catch (e) {
    if (e instanceof UsageError) throw usage(e.message);
    throw e;
  }
  await d.store!.update((cur) => {
    if (cur.membership) throw alreadyMember();
    return { ...cur, membership: {
      network: toBase64(f.network.bytes), chain: f.chain.map((c) => toBase64(c.bytes)), networkSeed: toBase64(seed),
      alloc: f.alloc, invites: [], endpoints: endpoint ? [endpoint] : [],
    } };
  });
  await d.startMesh();
  const net = f.network.params;
  d.log.info(`created network "${net.name}" (zone ${net.zone}, ${formatPrefix4(net.ipv4Pool)}, ${ula48Text(net.ula48)})`);
  return statusOf(d);
}

async function join(d: Kithd, params: Record<string, unknown>, progress: Progress): Promise<unknown> {
  if (d.state!.membership) throw failed(`already a member of network "${d.mesh?.network.params.name}"; an invite for another network cannot be used here`);
  const code = str(params, 'code', true)!;
  const nodeName = (await nodeNameOf(d, params)).toLowerCase();
  if (!isDnsLabel(nodeName)) throw usage(`invalid node name "${nodeName}": letters, digits and hyphens`);
  let joined;
  try {
    joined = await joinWithCode(d.p, d.state!, code, nodeName, progress);
  } catch (e) {
    if (e instanceof JoinError) throw failed(e.message);
    throw e;
  }
  progress(`admitted to "${joined.network}" as ${joined.name} (${joined.ipv4}); bringing up the tunnel …`);
  await d.store!.update((cur) => {
    if (cur.membership) throw failed('already a member of a network');
    return { ...cur, membership: joined.membership };
  });
  await saveRecords(d.p.fs, d.runDir, joined.records.map((r) => toBase64(r)));
  await d.startMesh();
  return statusOf(d);
}

async function serviceAdd(d: Kithd, params: Record<string, unknown>): Promise<unknown> {
  const name = str(params, 'name', true)!.toLowerCase();
  const port = Number(params['port']);
  const proto = str(params, 'proto') ?? 'tcp';
  const type = (str(params, 'type') ?? '').toLowerCase();
  if (!isDnsLabel(name)) throw usage(`invalid service name "${name}": letters, digits and hyphens`);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw usage(`invalid port "${String(params['port'])}": 1-65535`);
  if (proto !== 'tcp' && proto !== 'udp') throw usage(`invalid --proto "${proto}": tcp or udp`);
  if (type && !isDnsLabel(type)) throw usage(`invalid --type "${type}": letters, digits and hyphens`);
  const host = str(params, 'host');
  if (host !== null) {
    if (parseIPv4(host) === null) throw usage(`invalid --host "${host}": an IPv4 address on this node's LAN`);
    const lans = d.settings.subnets.map((x) => x.prefix).filter((p) => p.includes('.'));
    if (lanOf(host, lans) === undefined) throw failed(`--host ${host} is on none of the subnets this node advertises (${lans.length ? lans.join(', ') : 'none: add a config subnet'})`);
  }
  if (d.settings.services.some((x) => x.name === name)) throw failed(`service "${name}" is defined in ${d.config.file}; change it there`);
  await d.store!.update((cur) => {
    const next = [...(cur.services ?? []).filter((x) => x.name !== name), { name, port, proto: proto as 'tcp' | 'udp', type, ...(host !== null ? { host } : {}) }];
    const all = d.servicesWith(d.config, next);
    const misfit = d.mesh
      ? configFitError(all, d.settings.subnets.map((x) => x.prefix), d.mesh.core.certChain)
      : all.length > MAX_SERVICES ? `too many services (at most ${MAX_SERVICES})` : null;
    if (misfit) throw failed(`cannot add service "${name}": ${misfit}`);
    return { ...cur, services: next };
  });
  return publishServices(d);
}
