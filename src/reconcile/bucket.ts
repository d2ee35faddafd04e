/**
 * A token bucket for repairs. Each repair of drift that another program caused spends one token;
 * tokens come back at a steady rate. An empty bucket means "someone keeps undoing tsfw": the
 * reconciler stops writing until a token is back, instead of fighting in a hot loop. Pure: time
 * is passed in, nothing here reads a clock.
 */

/** Bucket size and refill rate (config.reconcile.burst / refillPerMinute). */
export interface BucketOptions {
  readonly burst: number;
  readonly refillPerMinute: number;
}

/** A snapshot of the bucket, as shown in state.json. */
export interface BucketSnapshot {
  readonly tokens: number;
  readonly burst: number;
  readonly refillPerMinute: number;
}

/** The repair budget. `now` is milliseconds on any monotonic or wall clock, used consistently. */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private options: BucketOptions,
    now: number,
  ) {
    this.tokens = options.burst;
    this.last = now;
  }

  /** Spends one token if there is one; false means: back off. */
  take(now: number): boolean {
    this.refill(now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** When the next whole token will be available (now when one is). */
  nextTokenAt(now: number): number {
    this.refill(now);
    if (this.tokens >= 1) return now;
    return now + Math.ceil(((1 - this.tokens) * 60_000) / this.options.refillPerMinute);
  }

  /** Adopts new limits (config reload), keeping what was spent, capped at the new burst. */
  reconfigure(options: BucketOptions, now: number): void {
    this.refill(now);
    this.options = options;
    this.tokens = Math.min(this.tokens, options.burst);
  }

  /** Current budget, rounded for display. */
  snapshot(now: number): BucketSnapshot {
    this.refill(now);
    return { tokens: Math.floor(this.tokens * 100) / 100, burst: this.options.burst, refillPerMinute: this.options.refillPerMinute };
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.last);
    this.last = Math.max(this.last, now);
    this.tokens = Math.min(this.options.burst, this.tokens + (elapsed * this.options.refillPerMinute) / 60_000);
  }
}
