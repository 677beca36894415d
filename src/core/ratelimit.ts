// Response rate limiting per source address: a token bucket per address in
// a table of bounded size. Sans-I/O: the caller passes the time. Over the
// limit, every `slip`-th response becomes a TC=1 reply (a real client then
// retries over TCP, a spoofed victim gets no amplification), the rest drop.

export interface RateLimitConfig {
  /** Sustained responses per second per address. */
  ratePerSec: number;
  /** Bucket size: responses allowed in a burst. */
  burst: number;
  /** Most addresses tracked; the oldest entry is evicted beyond it. */
  maxEntries: number;
  /** Every slip-th limited response is sent truncated; 0 drops them all. */
  slip: number;
}

export type RateDecision = 'allow' | 'slip' | 'drop';

export const DEFAULT_RATE_LIMIT: RateLimitConfig = { ratePerSec: 200, burst: 400, maxEntries: 8192, slip: 2 };

interface Bucket { tokens: number; lastMs: number; limited: number }

export class RateLimiter {
  private readonly table = new Map<string, Bucket>();

  constructor(private readonly cfg: RateLimitConfig) {
    if (!(cfg.ratePerSec > 0) || !(cfg.burst >= 1) || !(cfg.maxEntries >= 1)) {
      throw new RangeError(`rate limit config: ratePerSec ${cfg.ratePerSec}, burst ${cfg.burst}, maxEntries ${cfg.maxEntries} must be positive`);
    }
  }

  /** Takes one token for addr at nowMs and says what to do with the response. */
  check(addr: string, nowMs: number): RateDecision {
    let b = this.table.get(addr);
    if (!b) {
      if (this.table.size >= this.cfg.maxEntries) this.table.delete(this.table.keys().next().value!);
      b = { tokens: this.cfg.burst, lastMs: nowMs, limited: 0 };
      this.table.set(addr, b);
    } else if (nowMs > b.lastMs) {
      b.tokens = Math.min(this.cfg.burst, b.tokens + ((nowMs - b.lastMs) * this.cfg.ratePerSec) / 1000);
      b.lastMs = nowMs;
    }
    if (b.tokens >= 1) { b.tokens -= 1; return 'allow'; }
    b.limited++;
    return this.cfg.slip > 0 && b.limited % this.cfg.slip === 0 ? 'slip' : 'drop';
  }

  /** Whether addr's bucket is empty at nowMs (a check would not allow); takes no token. */
  exhausted(addr: string, nowMs: number): boolean {
    const b = this.table.get(addr);
    if (!b) return false;
    return Math.min(this.cfg.burst, b.tokens + (Math.max(0, nowMs - b.lastMs) * this.cfg.ratePerSec) / 1000) < 1;
  }

  /** Forgets addresses whose bucket has refilled (idle ones); call now and then. */
  prune(nowMs: number): void {
    const refillMs = (this.cfg.burst * 1000) / this.cfg.ratePerSec;
    for (const [addr, b] of this.table) if (nowMs - b.lastMs >= refillMs) this.table.delete(addr);
  }

  get size(): number { return this.table.size; }
}
