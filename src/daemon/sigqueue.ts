// Native signature checks ahead of the synchronous core. For each control
// datagram the core lists the checks it would make after its cheap ones
// (members only, rate, known and newer, known bad); they run through the
// runtime's WebCrypto, their verdicts go into the core's cache, and then the
// core handles the datagram and finds every verdict there. Datagrams are
// handled in arrival order; while one waits for its checks the next ones
// queue, up to a bound, beyond which they are dropped and counted.
import { primeSignature, type SignatureCheck } from '../core/crypto.ts';
import { toHex } from '../core/bytes.ts';
import type { NativeCrypto } from '../platform/types.ts';

/** Datagrams waiting behind one whose signatures are being checked. */
export const MAX_QUEUED = 64;

/**
 * Native checks in flight at once. More buys no speed (the work is the same
 * CPU's), and hundreds at once (a join receiving a whole mesh) left txiki.js
 * 5 MB larger for good: the allocator keeps its high-water mark.
 */
export const PREFETCH_PARALLEL = 4;

/** Runs checks through native code and primes the core's cache; a check with no native verdict is left to the core. */
export async function prefetchSignatures(native: NativeCrypto | undefined, checks: SignatureCheck[]): Promise<number> {
  if (!native || checks.length === 0) return 0;
  const unique = new Map<string, SignatureCheck>();
  for (const c of checks) unique.set(toHex(c.publicKey) + toHex(c.signature), c);
  const todo = [...unique.values()];
  let primed = 0;
  const worker = async () => {
    for (let c = todo.pop(); c; c = todo.pop()) {
      try {
        if (primeSignature(c, await native.verifyEd25519(c.publicKey, c.message, c.signature))) primed++;
      } catch { /* no verdict: the core checks it itself */ }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PREFETCH_PARALLEL, todo.length) }, worker));
  return primed;
}

export interface Queued { data: Uint8Array; from: string }

export class SignatureQueue {
  private queue: Queued[] = [];
  private draining = false;
  /** Datagrams dropped because the queue was full. */
  dropped = 0;
  /** Native checks that gave a verdict. */
  primed = 0;

  constructor(
    private readonly native: NativeCrypto | undefined,
    private readonly checks: (q: Queued) => SignatureCheck[],
    private readonly handle: (q: Queued) => void,
    private readonly max = MAX_QUEUED,
  ) {}

  get length(): number { return this.queue.length; }

  push(q: Queued): void {
    // Nothing waiting and nothing to check (digests, pings, known records): handle at once.
    if (!this.draining && (!this.native || this.safeChecks(q).length === 0)) { this.handle(q); return; }
    if (this.queue.length >= this.max) { this.dropped++; return; }
    this.queue.push(q);
    if (!this.draining) void this.drain();
  }

  private safeChecks(q: Queued): SignatureCheck[] {
    try { return this.checks(q); } catch { return []; }
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let q = this.queue.shift(); q; q = this.queue.shift()) {
        // Listed again now: the datagrams before it may have made its records known or old.
        this.primed += await prefetchSignatures(this.native, this.safeChecks(q));
        try { this.handle(q); } catch { /* handle() contains its own failures */ }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Forgets what waits (the mesh stops). */
  clear(): void { this.queue = []; }
}
