// Plain WireGuard clients (phones, laptops) of this node: `kith client add`,
// `rm` and `kith clients`, on the socket API and ubus (methods.ts). Each client
// gets an address from this node's client block (core/clients.ts), becomes a
// peer of the outer interface and is advertised in the node's record, so every
// member routes it through this node. Clients are durable state (name, public
// key, address); a private key made here is in the answer only, never stored
// or logged.
import { clientBlockOf, freeClientAddress, MAX_CLIENTS } from '../core/clients.ts';
import { fromBase64, toBase64 } from '../core/bytes.ts';
import { x25519PrivateFromRandom, x25519Public } from '../core/crypto.ts';
import { formatHostPort, formatPrefix4, parseIPv4 } from '../core/ip.ts';
import { ipv6ForIPv4, ula48Text } from '../core/network.ts';
import { configFitError } from '../core/record.ts';
import type { WgPeer } from '../core/netmap.ts';
import { ApiError } from '../api/protocol.ts';
import type { DurableState, StoredClient } from './state.ts';
import type { Kithd } from './lifecycle.ts';
import type { Mesh } from './mesh.ts';

export interface ClientConfig {
  name: string;
  address: string;
  ipv6: string;
  publicKey: string;
  /** Only when kithd made the key pair (no publicKey given): shown once, kept nowhere. */
  privateKey?: string;
  serverPublicKey: string;
  endpoint: string;
  dns: string;
  allowedIPs: string[];
  keepaliveSec: number;
}

export interface ClientView { name: string; address: string; ipv6: string; publicKey: string; lastHandshakeSec: number | null }

export const CLIENT_KEEPALIVE_SEC = 25;

const usage = (m: string) => new ApiError('usage', m);
const failed = (m: string) => new ApiError('failed', m);
/** Client names: DNS labels, like node names, so they can name a client in the zone later. */
const NAME_RE = /^[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?$/;

export function storedClients(s: DurableState | null): StoredClient[] { return s?.clients ?? []; }

/** The outer interface's peers for our clients: each may send from its own addresses only; it dials us. */
export function clientPeers(s: DurableState | null, ula48: Uint8Array): WgPeer[] {
  return storedClients(s).map((c) => ({
    publicKey: c.publicKey, endpoint: null, keepaliveSec: 0,
    allowedIPs: [`${c.ipv4}/32`, `${ipv6ForIPv4(ula48, parseIPv4(c.ipv4)!)}/128`],
  }));
}

/** This node's public endpoint as clients dial it: a configured one first, else the one members observe. */
function publicEndpoint(mesh: Mesh): string | null {
  const eps = mesh.core.selfRecord.endpoints;
  const ep = eps.find((e) => e.kind === 'configured') ?? eps.find((e) => e.kind === 'public');
  return ep ? formatHostPort(ep.host, ep.port) : null;
}

function wgKey(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/.test(text)) return null;
  try { return fromBase64(text); } catch { return null; }
}

export async function addClient(d: Kithd, mesh: Mesh, params: Record<string, unknown>): Promise<ClientConfig> {
  const name = typeof params['name'] === 'string' ? params['name'] : '';
  if (!NAME_RE.test(name)) throw usage(`invalid client name "${name}": 1-32 lower-case letters, digits and hyphens`);
  const givenKey = typeof params['publicKey'] === 'string' && params['publicKey'] !== '' ? params['publicKey'] : null;
  if (givenKey !== null && !wgKey(givenKey)) throw usage(`invalid --public-key: a base64 WireGuard key (wg pubkey prints one)`);
  const net = mesh.network.params;
  const leaf = mesh.core.certChain[0]!;
  const block = clientBlockOf(leaf.ipv4, net.ipv4Pool);
  if (!block) throw failed(`this node has no client block: its address is beyond the members whose block fits the pool (${formatPrefix4(net.ipv4Pool)})`);
  const endpoint = publicEndpoint(mesh);
  if (!endpoint) throw failed('this node has no public endpoint yet: configure one (kith init --endpoint, or endpoint in the config) or wait until members report it');
  const priv = givenKey === null ? x25519PrivateFromRandom(d.p.random(32)) : null;
  const publicKey = givenKey ?? toBase64(x25519Public(priv!));
  if (publicKey === mesh.spec.publicKey || mesh.core.nodeByWgPub(publicKey)) throw failed('that public key belongs to a member of the network');
  let address = '';
  await d.store!.update((cur) => {
    const list = storedClients(cur);
    if (list.some((c) => c.name === name)) throw failed(`client "${name}" exists: remove it first (kith client rm ${name})`);
    if (list.some((c) => c.publicKey === publicKey)) throw failed('another client has that public key');
    if (list.length >= MAX_CLIENTS) throw failed(`this node has ${list.length} clients: at most ${MAX_CLIENTS}`);
    const free = freeClientAddress(block, list.map((c) => c.ipv4));
    if (!free) throw failed(`client block ${formatPrefix4(block)} is full`);
    const misfit = configFitError(d.services(), d.settings.subnets.map((x) => x.prefix), mesh.core.certChain, list.length + 1);
    if (misfit) throw failed(`cannot add client "${name}": ${misfit}`);
    address = free;
    return { ...cur, clients: [...list, { name, publicKey, ipv4: free }] };
  });
  publishClients(d, mesh);
  d.log.info(`client "${name}" added at ${address}`);
  const exit = params['exit'] === true;
  const ipv4Pool = formatPrefix4(net.ipv4Pool);
  return {
    name, address, ipv6: ipv6ForIPv4(net.ula48, parseIPv4(address)!), publicKey, ...(priv ? { privateKey: toBase64(priv) } : {}),
    serverPublicKey: mesh.spec.publicKey, endpoint, dns: mesh.netmap().self.ipv4,
    allowedIPs: exit ? ['0.0.0.0/0', '::/0'] : [ipv4Pool, ula48Text(net.ula48)], keepaliveSec: CLIENT_KEEPALIVE_SEC,
  };
}

export async function removeClient(d: Kithd, params: Record<string, unknown>): Promise<ClientView[]> {
  const name = typeof params['name'] === 'string' ? params['name'] : '';
  if (!name) throw usage('missing "name"');
  await d.store!.update((cur) => {
    const list = storedClients(cur);
    if (!list.some((c) => c.name === name)) throw new ApiError('not-found', `no client "${name}"`);
    return { ...cur, clients: list.filter((c) => c.name !== name) };
  });
  // The mesh as it is now, after the write: one that started meanwhile published the old list.
  const mesh = d.mesh;
  if (mesh) publishClients(d, mesh);
  d.log.info(`client "${name}" removed`);
  return listClients(d, mesh);
}

/** Our clients with the age of their last handshake (null: never, or no interface). */
export async function listClients(d: Kithd, mesh: Mesh | null): Promise<ClientView[]> {
  const st = mesh ? await mesh.applier.state(mesh.spec.ifname).catch(() => null) : null;
  const nowSec = d.p.clock.nowMs() / 1000;
  const ula48 = mesh?.network.params.ula48;
  return storedClients(d.state).map((c) => {
    const hs = st?.peers.find((x) => x.publicKey === c.publicKey)?.latestHandshakeSec ?? 0;
    return {
      name: c.name, address: c.ipv4, ipv6: ula48 ? ipv6ForIPv4(ula48, parseIPv4(c.ipv4)!) : '', publicKey: c.publicKey,
      lastHandshakeSec: hs > 0 ? Math.max(0, Math.round(nowSec - hs)) : null,
    };
  });
}

/**
 * The record advertises the clients as they are stored; the next apply sets the peers.
 * Also run once a mesh has started: a change made while it was starting is in the store only.
 */
export function publishClients(d: Kithd, mesh: Mesh): void {
  mesh.dispatch([...mesh.core.setClients(storedClients(d.state).map((c) => c.ipv4), d.p.clock.nowMs()), { type: 'netmap' }]);
}
