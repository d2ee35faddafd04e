import { describe, expect, it } from 'vitest';
import { createCoalescer } from './coalesce.js';
import type { Timers } from './coalesce.js';

/** A manual clock with timers that fire when time is advanced. */
function manualTime() {
  let now = 0;
  let seq = 0;
  const pending = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout(fn, ms) {
      const id = ++seq;
      pending.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout(handle) {
      pending.delete(handle as number);
    },
  };
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      const due = [...pending].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      pending.delete(due[0]);
      now = due[1].at;
      due[1].fn();
    }
    now = end;
  };
  return { timers, now: () => now, advance, pending };
}

describe('createCoalescer', () => {
  it('turns a burst into one call after the stream goes quiet', () => {
    const t = manualTime();
    const fired: { count: number; first: string }[] = [];
    const c = createCoalescer({ quietMs: 3, maxWaitMs: 15, now: t.now, timers: t.timers, fire: (b) => fired.push(b) });
    for (let i = 0; i < 30; i++) {
      c.push(`event ${i}`);
      t.advance(1);
    }
    // 30 events 1 ms apart exceed the 15 ms cap: events 0-14 fire at t=15, the rest 15 ms later.
    t.advance(10);
    expect(fired).toEqual([{ count: 15, first: 'event 0' }, { count: 15, first: 'event 15' }]);
  });

  it('fires quietMs after a single event, and not before', () => {
    const t = manualTime();
    const fired: number[] = [];
    const c = createCoalescer({ quietMs: 4, maxWaitMs: 20, now: t.now, timers: t.timers, fire: () => fired.push(t.now()) });
    c.push('a');
    t.advance(3);
    expect(fired).toEqual([]);
    t.advance(1);
    expect(fired).toEqual([4]);
  });

  it('a burst arriving at once fires exactly once', () => {
    const t = manualTime();
    let calls = 0;
    const c = createCoalescer({ quietMs: 3, maxWaitMs: 15, now: t.now, timers: t.timers, fire: () => calls++ });
    for (let i = 0; i < 100; i++) c.push('x');
    t.advance(100);
    expect(calls).toBe(1);
  });

  it('cancel drops what was collected', () => {
    const t = manualTime();
    let calls = 0;
    const c = createCoalescer({ quietMs: 3, maxWaitMs: 15, now: t.now, timers: t.timers, fire: () => calls++ });
    c.push('x');
    c.cancel();
    t.advance(100);
    expect(calls).toBe(0);
    expect(t.pending.size).toBe(0);
  });
});
