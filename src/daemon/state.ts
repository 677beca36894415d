// Durable state in the state directory (default /etc/kith, mode 0700):
// state.json (0600) holds the node's private keys and its membership. It is
// written atomically (temp file, fsync, rename) and only when it changes, so
// flash is spared and a crash mid-write leaves the previous file intact.
// Volatile state (the record cache) lives in the run directory.
import type { FileSystem } from '../platform/types.ts';
import { utf8Decode, utf8Encode } from '../core/bytes.ts';
import type { AllocState } from '../core/alloc.ts';
import type { StoredInvite } from '../core/admit.ts';
import type { Service } from '../core/record.ts';

export const STATE_VERSION = 1;
export const STATE_FILE = 'state.json';
export const RECORDS_FILE = 'records.json';

/** A member this node admitted, held until gossip brings its record (names and keys stay unique meanwhile). */
export interface AdmittedMember {
  name: string;
  /** Hex Ed25519 key. */
  signPub: string;
  /** Hex WireGuard key. */
  wgPub: string;
  atMs: number;
}

export interface Membership {
  /** Base64 signed network parameters. */
  network: string;
  /** Base64 certificates, leaf first. */
  chain: string[];
  /** Base64 seed of the network key: only on the founder. */
  networkSeed: string | null;
  alloc: AllocState;
  invites: StoredInvite[];
  /** Endpoints given at init or in the config ("host:port"). */
  endpoints: string[];
  /** Members admitted here whose record may not have arrived yet (bounded; absent in older files). */
  admitted?: AdmittedMember[];
  /** Base64 revocations held (core/revoke.ts), restored before any record at start (absent in older files). */
  revocations?: string[];
}

/** A plain WireGuard client of this node (daemon/clients.ts): never its private key. */
export interface StoredClient {
  name: string;
  /** Base64 WireGuard public key. */
  publicKey: string;
  /** Its address in this node's client block. */
  ipv4: string;
}

export interface DurableState {
  version: number;
  /** Base64 32-byte Ed25519 seed. */
  signSeed: string;
  /** Base64 WireGuard private key. */
  wgPrivate: string;
  membership: Membership | null;
  /** Services added with `kith service add` (those in the config file live there). */
  services?: Service[];
  /** Clients added with `kith client add` (absent in older files). */
  clients?: StoredClient[];
  /** Exit offer and use set with `kith exit` (a config file's `config exit` wins): offerMbit 0 = none. */
  exit?: { offerMbit: number; use: string | null };
}

export class StateError extends Error {
  override name = 'StateError';
}

export async function loadState(fs: FileSystem, dir: string): Promise<DurableState | null> {
  const path = `${dir}/${STATE_FILE}`;
  if (!(await fs.stat(path))) return null;
  const text = utf8Decode(await fs.readFile(path));
  let s: DurableState;
  try {
    s = JSON.parse(text) as DurableState;
  } catch (e) {
    throw new StateError(`${path}: not valid JSON (${(e as Error).message}); refusing to overwrite it`);
  }
  if (s.version !== STATE_VERSION || typeof s.signSeed !== 'string' || typeof s.wgPrivate !== 'string') {
    throw new StateError(`${path}: unsupported or incomplete state (version ${String(s.version)}); refusing to overwrite it`);
  }
  return s;
}

export async function saveState(fs: FileSystem, dir: string, s: DurableState): Promise<void> {
  await fs.writeFileAtomic(`${dir}/${STATE_FILE}`, utf8Encode(JSON.stringify(s, null, 1) + '\n'), 0o600);
}

/** The record cache: base64 records, so a restarted kithd keeps its peers. */
export async function loadRecords(fs: FileSystem, runDir: string): Promise<string[]> {
  try {
    const v = JSON.parse(utf8Decode(await fs.readFile(`${runDir}/${RECORDS_FILE}`))) as unknown;
    return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
  } catch {
    return [];
  }
}

export async function saveRecords(fs: FileSystem, runDir: string, records: string[]): Promise<void> {
  await fs.writeFileAtomic(`${runDir}/${RECORDS_FILE}`, utf8Encode(JSON.stringify(records)), 0o600);
}
