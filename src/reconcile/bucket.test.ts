import { describe, expect, it } from 'vitest';
import { TokenBucket } from './bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refuses until a token refills', () => {
    const bucket = new TokenBucket({ burst: 3, refillPerMinute: 6 }, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true]);
    expect(bucket.take(0)).toBe(false);
    // 6 per minute: one token every 10 s.
    expect(bucket.nextTokenAt(0)).toBe(10_000);
    expect(bucket.take(9_999)).toBe(false);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(10_001)).toBe(false);
  });

  it('never holds more than the burst, however long it was idle', () => {
    const bucket = new TokenBucket({ burst: 2, refillPerMinute: 60 }, 0);
    expect(bucket.snapshot(3_600_000).tokens).toBe(2);
    expect([bucket.take(3_600_000), bucket.take(3_600_000), bucket.take(3_600_000)]).toEqual([true, true, false]);
  });

  it('keeps what was spent when reconfigured, capped at the new burst', () => {
    const bucket = new TokenBucket({ burst: 10, refillPerMinute: 6 }, 0);
    for (let i = 0; i < 8; i++) bucket.take(0);
    bucket.reconfigure({ burst: 5, refillPerMinute: 60 }, 0);
    expect(bucket.snapshot(0)).toEqual({ tokens: 2, burst: 5, refillPerMinute: 60 });
    expect(bucket.nextTokenAt(0)).toBe(0);
  });

  it('ignores a clock that goes backwards', () => {
    const bucket = new TokenBucket({ burst: 1, refillPerMinute: 1 }, 1_000);
    expect(bucket.take(1_000)).toBe(true);
    expect(bucket.take(500)).toBe(false);
    expect(bucket.take(60_999)).toBe(false);
    expect(bucket.take(61_000)).toBe(true);
  });
});
