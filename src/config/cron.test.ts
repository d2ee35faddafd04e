import cron from 'node-cron';
import { describe, expect, it } from 'vitest';
import { isValidCron } from './cron.js';

/** The pure check against the library that schedules: never wider, and not narrower on plain schedules. */

const COMMON = [
  '*/10 * * * * *', '* * * * *', '*/5 * * * *', '0 * * * *', '0 3 * * *', '30 2 * * 1-5', '0 0 1 * *',
  '0 0 * * sun', '0 9-17 * * mon-fri', '15,45 * * * *', '0 0 29 2 *', '0 0 31 1,3 *', '0 */2 * * *',
  '5 4 * * 7', '0 0 1-15/3 jan-jun *', '59 59 23 31 12 6', '0  0   *  * *', ' 0 0 * * * ', '0 0 1 JAN *',
];
const REFUSED = [
  '', 'every 10 seconds', '*/10 * * 13 *', '* * * *', '* * * * * * *', '60 * * * *', '* 24 * * *', '* * 0 * *',
  '* * 32 * *', '* * * 0 *', '* * * * 8', '0 0 30 2 *', '0 0 31 4,6 *', '5-3 * * * *', '*/0 * * * *', '1-x * * * *',
  '* * * foo *', '@daily', '0 0 L * *', '0 0 * * 1#2', '0 0 ? * *', '*/10, * * * *', '-1 * * * *', '1- * * * *',
];

describe('isValidCron', () => {
  it.each(COMMON)('accepts %j, as node-cron does', (expression) => {
    expect(cron.validate(expression)).toBe(true);
    expect(isValidCron(expression)).toBe(true);
  });

  it.each(REFUSED)('refuses %j', (expression) => {
    expect(isValidCron(expression)).toBe(false);
  });

  it('accepts nothing node-cron refuses, over 40000 generated expressions', () => {
    let seed = 7;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    // Per field: in-range numbers, names, the edges just outside, and the odd wrong token.
    const ranges: [number, number, string[]][] = [[0, 59, []], [0, 59, []], [0, 23, []], [1, 31, []], [1, 12, ['jan', 'jun', 'dec']], [0, 7, ['sun', 'wed', 'sat']]];
    const atom = ([min, max, names]: [number, number, string[]]) => {
      const r = rnd(10);
      if (r === 0) return String(rnd(2) === 0 ? min - 1 : max + 1);
      if (r === 1) return ['x', '00', '007', 'L', '?', ''][rnd(6)]!;
      if (r === 2 && names.length) return names[rnd(names.length)]!;
      return String(min + rnd(max - min + 1));
    };
    const item = (range: [number, number, string[]]) => {
      const r = rnd(5);
      const base = r === 0 ? '*' : r === 1 ? `${atom(range)}-${atom(range)}` : atom(range);
      return rnd(4) === 0 ? `${base}/${['0', '1', '2', '7', '15', '59', '60', '100'][rnd(8)]}` : base;
    };
    const field = (range: [number, number, string[]]) => (rnd(3) === 0 ? '*' : Array.from({ length: 1 + rnd(3) }, () => item(range)).join(','));
    const expressionOf = () => {
      const six = ranges.map(field);
      return (rnd(2) === 0 ? six.slice(1) : six).join(' ');
    };
    let accepted = 0;
    for (let i = 0; i < 40_000; i++) {
      const expression = expressionOf();
      if (!isValidCron(expression)) continue;
      accepted++;
      expect(cron.validate(expression), expression).toBe(true);
    }
    expect(accepted).toBeGreaterThan(1000);
  });
});
