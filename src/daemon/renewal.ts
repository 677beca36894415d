// The certificate our issuer renewed (the core's 'chain' action) written to
// the membership in state.json: else the next start would present the old one.
import { toBase64 } from '../core/bytes.ts';
import type { NodeCore } from '../core/node.ts';
import type { StateStore } from './store.ts';
import type { Logger } from './log.ts';

export function saveRenewedChain(store: StateStore, core: NodeCore, log: Logger): void {
  const leaf = core.certChain[0]!;
  const chain = core.certChain.map((c) => toBase64(c.bytes));
  void store.update((cur) => (cur.membership ? { ...cur, membership: { ...cur.membership, chain } } : null))
    .then(() => log.info(`certificate renewed until ${new Date(leaf.expiresAtMs).toISOString()}`))
    .catch((e: Error) => log.limited('renew', 'error', `cannot save the renewed certificate: ${e.message}`));
}
