import { describe, expect, it } from 'vitest';
import { createFreshness, reusable } from './freshness.js';

describe('freshness', () => {
  it('holds only while the watcher is live, silent since the stamp, and the answer young', () => {
    let now = 0;
    const f = createFreshness(1000, () => now);
    expect(f.stamp()).toBeUndefined();
    expect(f.holds(undefined)).toBe(false);
    f.setLive(true);
    const s = f.stamp();
    expect(f.holds(s)).toBe(true);
    now = 999;
    expect(f.holds(s)).toBe(true);
    now = 1000;
    expect(f.holds(s)).toBe(false);
    const t = f.stamp();
    f.changed();
    expect(f.holds(t)).toBe(false);
    const u = f.stamp();
    f.setLive(false);
    f.setLive(true);
    // Down and up again: what happened meanwhile was not reported.
    expect(f.holds(u)).toBe(false);
  });

  it('reuses a read while it holds, reads again after a change or forget, and keeps no failed read', async () => {
    const f = createFreshness(1000, () => 0);
    let reads = 0;
    let fail = false;
    const r = reusable(async () => {
      reads += 1;
      if (fail) throw new Error('no');
      return reads;
    }, f);
    expect(await r.get()).toBe(1); // not live: read
    expect(await r.get()).toBe(2);
    f.setLive(true);
    expect(await r.get()).toBe(3);
    expect(await r.get()).toBe(3);
    f.changed();
    expect(await r.get()).toBe(4);
    r.forget();
    expect(await r.get()).toBe(5);
    f.changed();
    fail = true;
    await expect(r.get()).rejects.toThrow('no');
    fail = false;
    expect(await r.get()).toBe(7);
  });

  it('a change during the read makes the next get read again', async () => {
    const f = createFreshness(1000, () => 0);
    f.setLive(true);
    let reads = 0;
    const r = reusable(async () => {
      reads += 1;
      if (reads === 1) f.changed(); // reported while the probe was reading
      return reads;
    }, f);
    expect(await r.get()).toBe(1);
    expect(await r.get()).toBe(2);
    expect(await r.get()).toBe(2);
  });

  it('without a watcher (a one-shot CLI pass) every get reads', async () => {
    let reads = 0;
    const r = reusable(() => Promise.resolve(++reads), undefined);
    await r.get();
    await r.get();
    expect(reads).toBe(2);
  });
});
