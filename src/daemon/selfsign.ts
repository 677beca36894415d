// The node's own record signed in the runtime's native code (WebCrypto
// Ed25519: about 3 ms under txiki.js where tweetnacl stalls the event loop for
// 70 ms and more). The core, built with asyncSign, emits a 'sign' action with
// the record's unsigned bytes; this signs them natively, verifies the
// signature natively into the core's verdict cache, and hands it back
// (installSignature). Only the latest request waits: a newer record
// supersedes the older one. When native signing fails or its signature is
// refused, the core signs that record with tweetnacl (logged once).
import type { NativeCrypto } from '../platform/types.ts';
import type { Action, NodeCore } from '../core/node.ts';
import type { SignKeys } from '../core/crypto.ts';
import type { Logger } from './log.ts';
import { prefetchSignatures } from './sigqueue.ts';

export class NativeSelfSigner {
  private next: Uint8Array | null = null;
  private running: Promise<void> | null = null;
  private warned = false;
  private stopped = false;
  /** Records signed natively, and by the tweetnacl fallback. */
  readonly counts = { native: 0, fallback: 0 };

  constructor(
    private readonly native: NativeCrypto,
    private readonly keys: SignKeys,
    private readonly core: () => NodeCore,
    private readonly nowMs: () => number,
    private readonly dispatch: (actions: Action[]) => void,
    private readonly log: Logger,
  ) {}

  /** Signs these bytes soon; replaces a request that has not started yet. */
  request(unsigned: Uint8Array): Promise<void> {
    this.next = unsigned;
    this.running ??= this.run();
    return this.running;
  }

  /** Resolves once nothing waits (start-up: the first record; tests). */
  idle(): Promise<void> { return this.running ?? Promise.resolve(); }

  /** Drops what waits; a signature in flight is not installed. */
  stop(): void { this.stopped = true; this.next = null; }

  private async run(): Promise<void> {
    await null; // request() has stored this run before it can end
    try {
      for (let u = this.next; u && !this.stopped; u = this.next) {
        this.next = null;
        const actions = await this.signOne(u);
        if (!this.stopped) this.dispatch(actions);
      }
    } finally {
      // Cleared in the same step as the loop's last look at next: a request made
      // after it starts a new run (cleared in a later .finally(), a request made
      // in between would wait for a run that has ended).
      this.running = null;
    }
  }

  private async signOne(unsigned: Uint8Array): Promise<Action[]> {
    let why: string;
    try {
      const signature = await this.native.signEd25519(this.keys.secretKey.subarray(0, 32), unsigned);
      await prefetchSignatures(this.native, [{ message: unsigned, signature, publicKey: this.keys.publicKey }]);
      if (this.stopped) return [];
      const r = this.core().installSignature(unsigned, signature, this.nowMs());
      if (r.result !== 'refused') { if (r.result === 'installed') this.counts.native++; return r.actions; }
      why = 'its signature did not verify';
    } catch (e) {
      why = (e as Error).message;
    }
    if (this.stopped) return [];
    if (!this.warned) { this.warned = true; this.log.warn(`native Ed25519 signing failed (${why}); signing the own record with tweetnacl`); }
    const actions = this.core().signPending(unsigned, this.nowMs());
    if (actions.length) this.counts.fallback++;
    return actions;
  }
}
