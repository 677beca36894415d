// Founding a network: the network key signs the parameters and the founder's
// certificate, which holds the whole address pool and the admin role.
import { signKeysFromSeed, type SignKeys } from './crypto.ts';
import { issueCert, type Cert } from './cert.ts';
import { deriveUla48, ipv4PoolError, isDnsLabel, isDnsName, networkId, signNetwork, DEFAULT_CONTROL_PORT, DEFAULT_IPV4_POOL, type AdmitPolicy, type SignedNetwork } from './network.ts';
import type { Prefix4 } from './ip.ts';
import { initialAllocState, type AllocState } from './alloc.ts';

export interface FoundOptions {
  name: string;
  zone?: string;
  ipv4Pool?: Prefix4;
  policy?: AdmitPolicy;
  nodeName: string;
  nodeSignPub: Uint8Array;
  nodeWgPub: Uint8Array;
  /** 32 random bytes for the network key. */
  networkSeed: Uint8Array;
  nowMs: number;
}

export interface Founded {
  networkKeys: SignKeys;
  network: SignedNetwork;
  chain: Cert[];
  alloc: AllocState;
}

/** Invalid local input (a bad name on the command line): the user's to fix. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export function foundNetwork(o: FoundOptions): Founded {
  const name = o.name.toLowerCase();
  if (!isDnsLabel(name)) throw new UsageError(`invalid network name "${o.name}": use letters, digits and hyphens (at most 63)`);
  const zone = (o.zone ?? `${name}.internal`).toLowerCase();
  if (!isDnsName(zone)) throw new UsageError(`invalid zone "${zone}"`);
  const nodeName = o.nodeName.toLowerCase();
  if (!isDnsLabel(nodeName)) throw new UsageError(`invalid node name "${o.nodeName}": use letters, digits and hyphens (at most 63)`);
  const networkKeys = signKeysFromSeed(o.networkSeed);
  const pool = o.ipv4Pool ?? DEFAULT_IPV4_POOL;
  const poolError = ipv4PoolError(pool);
  if (poolError) throw new UsageError(`invalid --pool: ${poolError} (e.g. 100.64.0.0/10)`);
  const network = signNetwork({
    networkPub: networkKeys.publicKey, name, zone, ipv4Pool: pool, ula48: deriveUla48(networkKeys.publicKey),
    controlPort: DEFAULT_CONTROL_PORT, policy: o.policy ?? 'admins', createdAtMs: o.nowMs,
  }, networkKeys);
  const founder = issueCert({
    networkId: networkId(networkKeys.publicKey), name: nodeName, signPub: o.nodeSignPub, wgPub: o.nodeWgPub,
    ipv4: (pool.base + 1) >>> 0, admin: true, pool, issuedAtMs: o.nowMs, expiresAtMs: 0, issuerPub: networkKeys.publicKey,
  }, networkKeys);
  return { networkKeys, network, chain: [founder], alloc: initialAllocState(2) };
}
