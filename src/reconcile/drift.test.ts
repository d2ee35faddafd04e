import { describe, expect, it } from 'vitest';
import type { DriftItem } from '../backends/types.js';
import { driftDetails, driftObjects, FightLog } from './drift.js';

const item = (chain: string | undefined, detail: string): DriftItem => ({
  kind: 'missing', family: 'inet', table: 'tsfw', ...(chain ? { chain } : {}), detail,
});

describe('drift classification', () => {
  it('names each object once, table-level drift as the table', () => {
    const drift = [item(undefined, 'table inet tsfw is missing'), item('ts-input', 'a'), item('ts-input', 'b'), item('tsfw-filter-input', 'c')];
    expect(driftObjects(drift)).toEqual(['inet tsfw table', 'inet tsfw chain ts-input', 'inet tsfw chain tsfw-filter-input']);
  });

  it('shortens long drift lists for one log line', () => {
    const drift = Array.from({ length: 4 }, (_, i) => item('ts-input', `d${i}`));
    expect(driftDetails(drift, 2)).toEqual(['d0', 'd1', '… and 2 more']);
  });

  it('counts repairs per object inside the window only, most repaired first', () => {
    const log = new FightLog(60_000);
    log.record(0, ['inet tsfw chain ts-forward']);
    log.record(1_000, ['inet tsfw chain ts-input']);
    log.record(2_000, ['inet tsfw chain ts-input', 'inet tsfw table']);
    expect(log.counts(2_000)).toEqual([
      { object: 'inet tsfw chain ts-input', count: 2 },
      { object: 'inet tsfw chain ts-forward', count: 1 },
      { object: 'inet tsfw table', count: 1 },
    ]);
    expect(log.counts(61_500)).toEqual([
      { object: 'inet tsfw chain ts-input', count: 1 },
      { object: 'inet tsfw table', count: 1 },
    ]);
  });
});
