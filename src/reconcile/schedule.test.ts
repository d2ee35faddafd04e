import { createLogger } from '../log/logger.js';
import { describe, expect, it } from 'vitest';
import { cronMatches, numericCronFields, startSchedule } from './schedule.js';

describe('startSchedule', () => {
  it.each(['* * * * * *', '* * * L * *'])('ticks on a seconds expression and stops cleanly (%s)', async (expression) => {
    // '* * * L * *' (every second of a month's last day) runs on node-cron's timer: it must
    // schedule and stop all the same, and tick when today is the last day.
    const now = new Date();
    const lastDay = new Date(now.getFullYear(), now.getMonth() + 1, 0).getDate() === now.getDate();
    let ticks = 0;
    const schedule = startSchedule(expression, () => ticks++, createLogger('silent'));
    await new Promise((r) => setTimeout(r, 2_300));
    await schedule.stop();
    const seen = ticks;
    if (expression === '* * * * * *' || lastDay) {
      expect(seen).toBeGreaterThanOrEqual(2);
      expect(seen).toBeLessThanOrEqual(3);
    }
    await new Promise((r) => setTimeout(r, 1_200));
    expect(ticks).toBe(seen);
  }, 10_000);
});

describe('cronMatches', () => {
  const at = (text: string) => new Date(text); // local time, as the schedule reads it

  it('matches every field against the local time, like node-cron', () => {
    const every10 = numericCronFields('*/10 * * * * *')!;
    expect(cronMatches(every10, at('2026-03-02T10:00:20'))).toBe(true);
    expect(cronMatches(every10, at('2026-03-02T10:00:21'))).toBe(false);
    const weekdays = numericCronFields('30 4 * * mon-fri')!;
    expect(weekdays.second).toEqual([0]);
    expect(cronMatches(weekdays, at('2026-03-02T04:30:00'))).toBe(true); // a Monday
    expect(cronMatches(weekdays, at('2026-03-01T04:30:00'))).toBe(false); // a Sunday
    expect(cronMatches(weekdays, at('2026-03-02T04:31:00'))).toBe(false);
    const sundays = numericCronFields('0 0 1,15 jan,jul 7')!; // 7 is Sunday too; both day fields must match
    expect(cronMatches(sundays, at('2026-01-01T00:00:00'))).toBe(false); // a Thursday
    expect(cronMatches(sundays, at('2026-02-15T00:00:00'))).toBe(false); // February
    expect(cronMatches(sundays, at('2026-07-01T00:00:00'))).toBe(false); // a Wednesday
    expect(cronMatches(numericCronFields('@hourly')!, at('2026-07-01T13:00:00'))).toBe(true);
  });

  it('leaves expressions with day tokens to node-cron', () => {
    expect(numericCronFields('0 0 L * *')).toBeUndefined();
    expect(numericCronFields('* * * L * *')).toBeUndefined();
    expect(numericCronFields('0 0 * * 1#2')).toBeUndefined();
    expect(numericCronFields('0 0 * * *')).toBeDefined();
  });
});
