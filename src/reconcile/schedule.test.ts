import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { startSchedule } from './schedule.js';

describe('startSchedule', () => {
  it('ticks on a seconds expression and stops cleanly', async () => {
    let ticks = 0;
    const schedule = startSchedule('* * * * * *', () => ticks++, pino({ level: 'silent' }));
    await new Promise((r) => setTimeout(r, 2_300));
    await schedule.stop();
    const seen = ticks;
    expect(seen).toBeGreaterThanOrEqual(2);
    expect(seen).toBeLessThanOrEqual(3);
    await new Promise((r) => setTimeout(r, 1_200));
    expect(ticks).toBe(seen);
  }, 10_000);
});
