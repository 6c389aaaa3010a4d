/**
 * A token bucket per RPC connection: `ratePerSec` requests a second sustained, `burst` at
 * once. One connection that floods a server (a bug, a compromised client) is answered
 * `rate_limited` for the requests over its share and keeps its connection; the others are
 * unaffected, since each has its own bucket. Time comes in from outside so tests can run it
 * on a fake clock.
 */
import { YurtError } from '../../structs/errors.js';

export interface RpcRateLimit {
  /** Requests per second; 0 or less turns the limit off. */
  ratePerSec: number;
  /** The most requests accepted at once after a quiet period. */
  burst: number;
}

export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly limit: RpcRateLimit,
    private readonly nowMs: () => number,
  ) {
    this.tokens = limit.burst;
    this.last = nowMs();
  }

  /** Takes one token; false when the bucket is empty (the request is over the limit). */
  take(): boolean {
    if (this.limit.ratePerSec <= 0) return true;
    const now = this.nowMs();
    this.tokens = Math.min(this.limit.burst, this.tokens + ((now - this.last) / 1000) * this.limit.ratePerSec);
    this.last = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export function rateLimitedError(limit: RpcRateLimit): YurtError {
  return new YurtError('rate_limited', `rpc: too many requests on this connection (limit ${limit.ratePerSec}/s, burst ${limit.burst}); slow down and retry`, {
    details: { ratePerSec: limit.ratePerSec, burst: limit.burst },
  });
}
