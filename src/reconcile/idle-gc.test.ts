import { describe, expect, it } from 'vitest';
import { createIdleCollector } from './idle-gc.js';

describe('idle collector', () => {
  it('collects after a pass at most once per interval, and never without a collector', () => {
    let now = 0;
    let runs = 0;
    const c = createIdleCollector(() => now, () => runs++, 60_000);
    c.afterPass();
    now = 59_999;
    c.afterPass();
    expect(runs).toBe(0);
    now = 60_000;
    c.afterPass();
    c.afterPass();
    expect(runs).toBe(1);
    now = 200_000;
    c.afterPass();
    expect([runs, c.collections()]).toEqual([2, 2]);
    const none = createIdleCollector(() => now, undefined);
    now = 1e9;
    none.afterPass();
    expect(none.collections()).toBe(0);
  });
});
