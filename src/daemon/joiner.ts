// The newcomer's side of joining: connect to the endpoints in the code, send
// the sealed request, open and check the reply, and return the membership to
// persist. Progress is reported as short lines for the CLI.
import type { Platform } from '../platform/types.ts';
import { decodeInvite, inviteKeys, type InviteCode } from '../core/invite.ts';
import { buildJoinRecord, buildJoinRequest, frameJoin, openJoinReply } from '../core/join.ts';
import { encodeRecord } from '../core/record.ts';
import { signKeysFromSeed, x25519Public } from '../core/crypto.ts';
import { bytesEqual, fromBase64, toBase64 } from '../core/bytes.ts';
import { decodeNetwork, networkId } from '../core/network.ts';
import { verifyChain } from '../core/cert.ts';
import { formatIPv4, formatHostPort } from '../core/ip.ts';
import { initialAllocState } from '../core/alloc.ts';
import { DecodeError } from '../core/codec.ts';
import { readFrame } from './frames.ts';
import type { DurableState, Membership } from './state.ts';

export const CONNECT_TIMEOUT_MS = 5000;
export const REPLY_TIMEOUT_MS = 15000;

/** The join was refused or failed; the message is one line for the user. */
export class JoinError extends Error {
  override name = 'JoinError';
}

export interface Joined { membership: Membership; records: Uint8Array[]; name: string; ipv4: string; network: string }

export async function joinWithCode(
  p: Platform, state: DurableState, codeText: string, nodeName: string, progress: (line: string) => void,
): Promise<Joined> {
  let code: InviteCode;
  try {
    code = decodeInvite(codeText);
  } catch (e) {
    throw new JoinError((e as Error).message);
  }
  const keys = inviteKeys(code.secret);
  const sign = signKeysFromSeed(fromBase64(state.signSeed));
  const wgPub = x25519Public(fromBase64(state.wgPrivate));
  const failures: string[] = [];
  for (const ep of code.endpoints) {
    const where = formatHostPort(ep.host, ep.port);
    // The request is sealed and signed before connecting: on a slow router
    // that takes longer than the member waits for a frame header.
    const eph = p.random(32);
    const frame = buildJoinRequest({ networkId: code.networkId, inviteId: keys.id, invitePub: keys.publicKey, ephemeralSecret: eph, nonce: p.random(24) },
      { name: nodeName, signPub: sign.publicKey, wgPub }, sign);
    progress(`connecting to ${where} …`);
    let stream;
    try {
      stream = await p.tcp.connect(ep.host, ep.port, CONNECT_TIMEOUT_MS);
    } catch (e) {
      failures.push(`${where}: ${(e as Error).message}`);
      continue;
    }
    try {
      progress('sent join request, waiting for admission …');
      await stream.write(frameJoin(frame));
      const reply = openJoinReply(await readFrame(p, stream, REPLY_TIMEOUT_MS), keys.publicKey, eph);
      if (!reply.ok) throw new JoinError(`join refused: ${reply.reason}`);
      const net = decodeNetwork(reply.network);
      if (!bytesEqual(networkId(net.params.networkPub), code.networkId)) throw new JoinError('join failed: the member answered for a different network than the invite names');
      const leaf = verifyChain(reply.chain, net.params, p.clock.nowMs());
      if (!bytesEqual(leaf.signPub, sign.publicKey) || !bytesEqual(leaf.wgPub, wgPub)) throw new JoinError('join failed: the certificate does not bind this node\'s keys');
      const first = encodeRecord({ seq: p.clock.nowMs(), endpoints: [], links: [], subnets: [], relay: true, exitCapacityMbit: 0, services: [] }, reply.chain, sign);
      await stream.write(frameJoin(buildJoinRecord(first.bytes))).catch(() => undefined);
      return {
        membership: {
          network: toBase64(reply.network), chain: reply.chain.map((c) => toBase64(c.bytes)), networkSeed: null,
          alloc: initialAllocState(1), invites: [], endpoints: [],
        },
        records: [...reply.records, first.bytes], name: leaf.name, ipv4: formatIPv4(leaf.ipv4), network: net.params.name,
      };
    } catch (e) {
      if (e instanceof JoinError) throw e;
      const msg = e instanceof DecodeError ? e.message : (e as Error).message;
      failures.push(`${where}: ${msg}`);
    } finally {
      stream.close();
    }
  }
  throw new JoinError(`join failed: ${failures.join('; ')}`);
}
