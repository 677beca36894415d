// The kith command: parses the command line, calls kithd's local API, prints
// short human output (or JSON). Exit codes: 0 success, 2 usage, 1 failure.
import type { Platform } from '../platform/types.ts';
import { defaultSocketPath } from '../api/protocol.ts';
import { callApi, ApiCallError } from './client.ts';
import { parseArgs, UsageError } from './args.ts';
import { loadConfig, describeProblems, defaultConfigFile } from '../api/config.ts';
import { terminalQr } from './qr.ts';
import { wgQuickConfig, type ClientConfigView } from './wgquick.ts';
import { toBase64 } from '../core/bytes.ts';
import { x25519PrivateFromRandom, x25519Public } from '../core/crypto.ts';
import type { PeerView } from '../api/protocol.ts';
import { parseIPv6, parsePrefix4 } from '../core/ip.ts';
import type { OverlaySpace } from '../core/prefixes.ts';

export const USAGE = `usage: kith <command> [options]
  init <network> [--node-name N] [--endpoint host:port] [--zone Z] [--pool CIDR] [--policy admins|any]
  invite [--name N] [--expires 24h] [--admin] [--qr] | invite rm <id>   (withdraws one not used yet)
  join <code> [--node-name N]
  status [--json]
  peers [--json]
  invites [--json]
  revoke <node> [--dry-run] [--json]   (by name, node id or overlay address; says whom it cuts off)
  client add <name> [--exit] [--qr] [--json] | client rm <name>   (a plain WireGuard client: prints its wg-quick config once)
  clients [--json]
  service add <name> <port> [--proto tcp|udp] [--type http] [--host <lan-ip>] | service rm <name> | service list [--json]
  exit offer [--capacity-mbit N] | exit offer off | exit use auto|<node>|off
  exits [--json]   (exit offers: node, capacity, users, health, which one this node uses)
  config check [--file F] [--json]   (default /etc/config/kith, else /etc/kith/kith.conf)
  reload
environment: KITH_SOCKET (kithd's API socket; default /var/run/kith/kithd.sock, or
  $KITH_STATE_DIR/kithd.sock when KITH_STATE_DIR is set to other than /etc/kith)
exit status: 0 success, 2 usage error, 1 failure (a one-line reason on stderr)`;

interface Command { valued: string[]; booleans: string[]; args: [number, number]; run: (c: Ctx) => Promise<void> }

/** A check that ran and found problems (already printed): exit 1. */
class CheckFailed extends Error {}
interface Ctx { p: Platform; pos: string[]; flags: Map<string, string | true>; call: (m: string, params?: Record<string, unknown>) => Promise<unknown>; out: (s: string) => void }

const flag = (c: Ctx, k: string) => { const v = c.flags.get(k); return typeof v === 'string' ? v : undefined; };

const COMMANDS: Record<string, Command> = {
  init: {
    valued: ['node-name', 'endpoint', 'zone', 'pool', 'policy'], booleans: ['json'], args: [1, 1],
    async run(c) {
      const s = await c.call('init', { network: c.pos[0], nodeName: flag(c, 'node-name'), endpoint: flag(c, 'endpoint'), zone: flag(c, 'zone'), pool: flag(c, 'pool'), policy: flag(c, 'policy') }) as Status;
      if (c.flags.has('json')) return c.out(JSON.stringify(s, null, 2));
      c.out(`created network "${s.network!.name}" (zone ${s.network!.zone}, ${s.network!.ipv4Pool})`);
      c.out(`this node: ${s.node!.name} ${s.node!.ipv4} ${s.node!.ipv6}`);
      c.out('next: "kith invite" makes a code for a neighbour');
    },
  },
  invite: {
    valued: ['name', 'expires'], booleans: ['admin', 'qr', 'json'], args: [0, 2],
    async run(c) {
      if (c.pos.length) {
        if (c.pos[0] !== 'rm' || c.pos.length !== 2) throw new UsageError('usage: kith invite [--name N] [--expires 24h] [--admin] [--qr], or kith invite rm <id>');
        await c.call('invite.rm', { id: c.pos[1] });
        return c.out(`invite ${c.pos[1]} withdrawn: it admits nobody`);
      }
      const r = await c.call('invite', { name: flag(c, 'name'), expires: flag(c, 'expires'), admin: c.flags.has('admin') }) as { code: string; expiresAtMs: number; endpoints: string[] };
      if (c.flags.has('json')) return c.out(JSON.stringify(r, null, 2));
      c.out(`one-time invite${flag(c, 'name') ? ` for "${flag(c, 'name')}"` : ''}${c.flags.has('admin') ? ' (admin)' : ''}, valid until ${new Date(r.expiresAtMs).toISOString().replace(/\.\d+Z$/, 'Z')}, join via ${r.endpoints.join(', ')}`);
      if (c.flags.has('qr')) c.out(terminalQr(r.code));
      c.out(r.code);
    },
  },
  join: {
    valued: ['node-name'], booleans: ['json'], args: [1, 1],
    async run(c) {
      const s = await c.call('join', { code: c.pos[0], nodeName: flag(c, 'node-name') }) as Status;
      if (c.flags.has('json')) return c.out(JSON.stringify(s, null, 2));
      c.out(`joined "${s.network!.name}" as ${s.node!.name} ${s.node!.ipv4} ${s.node!.ipv6}`);
    },
  },
  status: {
    valued: [], booleans: ['json'], args: [0, 0],
    async run(c) {
      const s = await c.call('status') as Status;
      if (c.flags.has('json')) return c.out(JSON.stringify(s, null, 2));
      if (!s.node || !s.network) return c.out('not a member of any network (kith init <name> | kith join <code>)');
      c.out(`network  ${s.network.name} (zone ${s.network.zone}, ${s.network.ipv4Pool}, ${s.network.ula48})`);
      c.out(`node     ${s.node.name} ${s.node.ipv4} ${s.node.ipv6}${s.node.admin ? ' admin' : ''}`);
      c.out(`state    ${s.state}${s.error ? `: ${s.error}` : ''}, ${s.reachable}/${s.peers} members reachable, ${s.node.ifname} via ${s.node.backend}`);
      const pm = s.portmap;
      if (pm) c.out(`portmap  ${pm.state === 'mapped' ? `${pm.external} (${pm.protocol}, ${pm.expiresInSec} s left)` : `${pm.state}${pm.reason ? `: ${pm.reason}` : ''}`}`);
      if (s.revoked) c.out('revoked  this node\'s certificate chain was revoked: members refuse it (a new identity and invite are needed)');
      const dropped = Object.entries(s.dropped ?? {}).filter(([, v]) => v > 0);
      if (dropped.length) c.out(`dropped  ${dropped.map(([k, v]) => `${k} ${v}`).join(', ')}`);
      for (const r of s.routes?.refused ?? []) c.out(`refused  ${r.node} ${r.prefix}: ${r.reason}`);
      if (s.deadRelays?.length) c.out(`relays   not answering: ${s.deadRelays.join(', ')} (paths go around them)`);
      for (const n of s.dns?.leftOut ?? []) c.out(`dns      left out ${n.name}: ${n.reason}`);
      for (const f of s.routes?.failed ?? []) c.out(`failed   route ${f.prefix}: ${f.error}`);
      for (const e of s.routes?.ruleErrors ?? []) c.out(`rules    ${e}`);
    },
  },
  peers: {
    valued: [], booleans: ['json'], args: [0, 0],
    async run(c) {
      const peers = await c.call('peers') as PeerView[];
      if (c.flags.has('json')) return c.out(JSON.stringify(peers, null, 2));
      if (!peers.length) return c.out('no peers yet');
      const rows = peers.map((x) => [x.name, x.ipv4, x.path === 'relayed' ? `relayed via ${x.via}` : x.path, x.endpoint ?? '-',
        x.rttMs === null ? '-' : `${x.rttMs} ms`, x.lastHandshakeSec === null ? '-' : `${x.lastHandshakeSec}s ago`]);
      c.out(table([['NAME', 'IPV4', 'PATH', 'ENDPOINT', 'RTT', 'HANDSHAKE'], ...rows]));
      for (const x of peers) if (x.whyNotDirect) c.out(`${x.name}: not direct: ${x.whyNotDirect}`);
      for (const x of peers) for (const s of x.subnets ?? []) if (s.mappedTo) c.out(`${x.name}: ${s.prefix} is reached at ${s.mappedTo} (it clashes with another member's)`);
    },
  },
  service: {
    valued: ['proto', 'type', 'host'], booleans: ['json'], args: [1, 3],
    async run(c) {
      const [sub, name, port] = c.pos;
      let list: { name: string; port: number; proto: string; type: string; host?: string }[];
      if (sub === 'add') {
        if (!name || !port) throw new UsageError('service add needs <name> <port>');
        list = await c.call('service.add', { name, port: Number(port), proto: flag(c, 'proto'), type: flag(c, 'type'), host: flag(c, 'host') }) as typeof list;
      } else if (sub === 'rm') {
        if (!name || port) throw new UsageError('service rm needs exactly <name>');
        list = await c.call('service.rm', { name }) as typeof list;
      } else if (sub === 'list' && !name) {
        list = await c.call('service.list') as typeof list;
      } else throw new UsageError(`unknown service command "${c.pos.join(' ')}" (add, rm, list)`);
      if (c.flags.has('json')) return c.out(JSON.stringify(list, null, 2));
      if (!list.length) return c.out('no services published');
      c.out(table([['NAME', 'PORT', 'PROTO', 'TYPE', 'HOST'], ...list.map((x) => [x.name, String(x.port), x.proto, x.type || x.name, x.host ?? 'this node'])]));
    },
  },
  client: {
    valued: [], booleans: ['exit', 'qr', 'json'], args: [2, 2],
    async run(c) {
      const [sub, name] = c.pos;
      if (sub === 'rm') {
        await c.call('client.rm', { name });
        return c.out(`client "${name}" removed`);
      }
      if (sub !== 'add') throw new UsageError(`unknown client command "${sub}" (add, rm)`);
      // The key pair is made here: kithd only ever sees the public key.
      const priv = x25519PrivateFromRandom(c.p.random(32));
      const r = await c.call('client.add', { name, exit: c.flags.has('exit'), publicKey: toBase64(x25519Public(priv)) }) as Omit<ClientConfigView, 'privateKey'>;
      const conf = wgQuickConfig({ ...r, privateKey: toBase64(priv) });
      if (c.flags.has('json')) return c.out(JSON.stringify({ ...r, config: conf }, null, 2));
      if (c.flags.has('qr')) c.out(terminalQr(conf, 'bytes'));
      c.out(conf);
      c.out('# the private key above is shown once and kept nowhere: save this config now');
    },
  },
  clients: {
    valued: [], booleans: ['json'], args: [0, 0],
    async run(c) {
      const list = await c.call('client.list') as { name: string; address: string; lastHandshakeSec: number | null }[];
      if (c.flags.has('json')) return c.out(JSON.stringify(list, null, 2));
      if (!list.length) return c.out('no clients');
      c.out(table([['NAME', 'ADDRESS', 'HANDSHAKE'], ...list.map((x) => [x.name, x.address, x.lastHandshakeSec === null ? '-' : `${x.lastHandshakeSec}s ago`])]));
    },
  },
  revoke: {
    valued: [], booleans: ['dry-run', 'json'], args: [1, 1],
    async run(c) {
      const r = await c.call('revoke', { node: c.pos[0], dryRun: c.flags.has('dry-run') }) as { revoked: string; cutOff: string[]; dryRun: boolean };
      if (c.flags.has('json')) return c.out(JSON.stringify(r, null, 2));
      const cut = r.cutOff.length ? `; this cuts off ${r.cutOff.length} member(s) admitted through it: ${r.cutOff.join(', ')} (each needs a new invite from a valid admin)` : '';
      c.out(`${r.dryRun ? 'would revoke' : 'revoked'} ${r.revoked}${cut}`);
    },
  },
  exit: {
    valued: ['capacity-mbit'], booleans: ['json'], args: [1, 2],
    async run(c) {
      const [sub, arg] = c.pos;
      let v: ExitStatus;
      if (sub === 'offer') {
        if (arg !== undefined && arg !== 'off') throw new UsageError(`exit offer takes only "off" (got "${arg}")`);
        const cap = flag(c, 'capacity-mbit');
        if (cap !== undefined && !/^[0-9]+$/.test(cap)) throw new UsageError(`invalid --capacity-mbit "${cap}": a whole number of Mbit/s`);
        v = await c.call('exit.offer', { off: arg === 'off', capacityMbit: cap === undefined ? undefined : Number(cap) }) as ExitStatus;
      } else if (sub === 'use') {
        if (arg === undefined) throw new UsageError('exit use needs auto, off or a member\'s name');
        if (c.flags.has('capacity-mbit')) throw new UsageError('--capacity-mbit belongs to exit offer');
        v = await c.call('exit.use', { node: arg }) as ExitStatus;
      } else throw new UsageError(`unknown exit command "${c.pos.join(' ')}" (offer, use)`);
      if (c.flags.has('json')) return c.out(JSON.stringify(v, null, 2));
      c.out(v.offering ? `offering an exit of ${v.capacityMbit} Mbit/s` : 'not offering an exit');
      c.out(v.use === null ? 'using no exit' : `using exit ${v.use}${v.via ? ` (now via ${v.via})` : ' (no healthy donor yet)'}`);
    },
  },
  exits: {
    valued: [], booleans: ['json'], args: [0, 0],
    async run(c) {
      const list = await c.call('exits') as { node: string; capacityMbit: number; users: number | null; healthy: boolean; chosen: boolean; skipped: string | null; self: boolean }[];
      if (c.flags.has('json')) return c.out(JSON.stringify(list, null, 2));
      if (!list.length) return c.out('no member offers an exit');
      c.out(table([['NODE', 'CAPACITY', 'USERS', 'HEALTHY', 'CHOSEN', 'NOTE'], ...list.map((x) => [x.node + (x.self ? ' (this node)' : ''), `${x.capacityMbit} Mbit/s`,
        x.users === null ? '-' : String(x.users), x.healthy ? 'yes' : 'no', x.chosen ? 'yes' : 'no', x.skipped ?? ''])]));
    },
  },
  reload: {
    valued: [], booleans: [], args: [0, 0],
    async run(c) { await c.call('reload'); c.out('configuration reloaded'); },
  },
  config: {
    valued: ['file'], booleans: ['json'], args: [1, 1],
    async run(c) {
      if (c.pos[0] !== 'check') throw new UsageError(`unknown config command "${c.pos[0]}" (check)`);
      const file = flag(c, 'file') ?? await defaultConfigFile(c.p.fs);
      // A running member's network: subnets are checked against its pool and ULA as a reload would.
      const network = await c.call('status').then((s) => overlayOf(s as Status)).catch(() => null);
      const cfg = await loadConfig(c.p, file, {}, network);
      if (c.flags.has('json')) c.out(JSON.stringify({ file, ok: cfg.errors.length === 0, networkChecked: network !== null, settings: cfg.settings, errors: cfg.errors, warnings: cfg.warnings }, null, 2));
      else {
        for (const line of describeProblems(cfg)) c.out(line);
        if (!network) c.out('note: kithd not reachable or not a member: subnets not checked against the network\'s pool and ULA');
        if (!cfg.errors.length) c.out(`${file}: ok\n${JSON.stringify(cfg.settings, null, 2)}`);
      }
      if (cfg.errors.length) throw new CheckFailed(`${cfg.errors.length} error(s) in ${file}`);
    },
  },
  invites: {
    valued: [], booleans: ['json'], args: [0, 0],
    async run(c) {
      const list = await c.call('invites') as { id: string; name: string | null; admin: boolean; expiresAtMs: number; usedBy: string | null }[];
      if (c.flags.has('json')) return c.out(JSON.stringify(list, null, 2));
      if (!list.length) return c.out('no invites');
      c.out(table([['ID', 'NAME', 'ADMIN', 'EXPIRES', 'USED BY'], ...list.map((i) => [i.id, i.name ?? '-', i.admin ? 'yes' : 'no', new Date(i.expiresAtMs).toISOString(), i.usedBy ?? '-'])]));
    },
  },
};

interface ExitStatus { offering: boolean; capacityMbit: number; use: string | null; via: string | null }

interface Status {
  state: string; revoked?: boolean; error?: string | null; peers: number; reachable: number; dropped: Record<string, number> | null;
  routes?: { refused: { node: string; prefix: string; reason: string }[]; failed: { prefix: string; error: string }[]; ruleErrors: string[] };
  node: { name: string; ipv4: string; ipv6: string; admin: boolean; ifname: string; backend: string } | null;
  network: { name: string; zone: string; ipv4Pool: string; ula48: string } | null;
  dns?: { leftOut?: { name: string; reason: string }[] };
  deadRelays?: string[];
  portmap?: { state: string; protocol?: string | null; external?: string | null; expiresInSec?: number | null; reason: string | null };
}

/** The network's overlay space from a status answer, or null. */
function overlayOf(s: Status): OverlaySpace | null {
  const pool = s.network ? parsePrefix4(s.network.ipv4Pool) : null;
  const ula = s.network ? parseIPv6(s.network.ula48.replace(/\/48$/, '')) : null;
  return pool && ula ? { ipv4Pool: pool, ula48: ula.slice(0, 6) } : null;
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((x, i) => (i === r.length - 1 ? x : x.padEnd(w[i]!))).join('  ')).join('\n');
}

export async function runKith(p: Platform): Promise<void> {
  const [name, ...rest] = p.args;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    p.stdout(USAGE + '\n');
    p.exit(name ? 0 : 2);
  }
  const cmd = COMMANDS[name!];
  if (!cmd) { p.stderr(`kith: unknown command "${name}"\n${USAGE}\n`); p.exit(2); }
  let parsed;
  try {
    parsed = parseArgs(rest, cmd!.valued, cmd!.booleans);
    const [min, max] = cmd!.args;
    if (parsed.positional.length < min) throw new UsageError(`${name} needs ${min === 1 ? 'an argument' : `${min} arguments`}`);
    if (parsed.positional.length > max) throw new UsageError(`unexpected argument "${parsed.positional[max]}"`);
  } catch (e) {
    p.stderr(`kith ${name}: ${(e as Error).message}\n${USAGE}\n`);
    p.exit(2);
  }
  const stateDir = p.env('KITH_STATE_DIR') ?? '/etc/kith';
  const socket = defaultSocketPath(stateDir, p.env);
  const ctx: Ctx = {
    p, pos: parsed!.positional, flags: parsed!.flags, out: (s) => p.stdout(s + '\n'),
    call: (m, params = {}) => callApi(p, socket, m, params, (line) => p.stderr(`… ${line}\n`)),
  };
  try {
    await cmd!.run(ctx);
  } catch (e) {
    const msg = (e as Error).message.split('\n')[0];
    p.stderr(`kith ${name}: ${msg}\n`);
    p.exit((e instanceof ApiCallError && e.code === 'usage') || e instanceof UsageError ? 2 : 1);
  }
  p.exit(0);
}
