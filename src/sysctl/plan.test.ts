import { describe, expect, it } from 'vitest';
import { configFrom, rulesetFrom } from '../../test/helpers/configs.js';
import { rulesetFor } from '../profiles/load.js';
import { planSysctls, restoresMarks, SRC_VALID_MARK, wantedSysctls } from './plan.js';
import type { SysctlReading } from './plan.js';

const strict: SysctlReading = { values: { [SRC_VALID_MARK]: '0' }, rpFilter: { all: '1', default: '1', eth0: '1', lo: '0' } };
const loose: SysctlReading = { values: { [SRC_VALID_MARK]: '0' }, rpFilter: { all: '0', default: '2', eth0: '0' } };
const none: SysctlReading = { values: { [SRC_VALID_MARK]: '0' }, rpFilter: { all: '0', default: '0', eth0: '0' } };

describe('which sysctls the ruleset needs', () => {
  it('connmark in mode on restores marks; nodivert (auto), connmark off, ip6-only and off do not', () => {
    expect(restoresMarks(rulesetFrom('', 'on'))).toBe(true);
    expect(restoresMarks(rulesetFrom('', 'nodivert'))).toBe(false);
    expect(restoresMarks(rulesetFrom('connmark: on', 'nodivert'))).toBe(true);
    expect(restoresMarks(rulesetFrom('connmark: off', 'on'))).toBe(false);
    expect(restoresMarks(rulesetFrom('families: [ip6]', 'on'))).toBe(false);
    expect(restoresMarks(rulesetFor(configFrom('connmark: on'), 'off'))).toBe(false);
  });

  it('src_valid_mark only under strict rp_filter (max(all, interface) = 1, default included); loose accepts any route', () => {
    expect(wantedSysctls(rulesetFrom('', 'on'), strict)).toEqual({ [SRC_VALID_MARK]: '1' });
    expect(wantedSysctls(rulesetFrom('', 'on'), { ...none, rpFilter: { all: '0', default: '1', eth0: '0' } })).toEqual({ [SRC_VALID_MARK]: '1' });
    expect(wantedSysctls(rulesetFrom('', 'on'), { ...none, rpFilter: { all: '2', eth0: '1' } })).toEqual({});
    expect(wantedSysctls(rulesetFrom('', 'on'), loose)).toEqual({});
    expect(wantedSysctls(rulesetFrom('', 'on'), none)).toEqual({});
    expect(wantedSysctls(rulesetFrom('', 'off'), strict)).toEqual({});
  });
});

describe('planSysctls', () => {
  const want = { [SRC_VALID_MARK]: '1' };

  it('sets a wanted value and records what it replaced', () => {
    const plan = planSysctls(want, strict, {});
    expect(plan.changes).toEqual([expect.objectContaining({ key: SRC_VALID_MARK, from: '0', to: '1' })]);
    expect(plan.record).toEqual({ [SRC_VALID_MARK]: { was: '0', set: '1' } });
  });

  it("leaves a value already in place alone and does not claim it (it is the admin's)", () => {
    const plan = planSysctls(want, { ...strict, values: { [SRC_VALID_MARK]: '1' } }, {});
    expect(plan).toEqual({ changes: [], record: {}, released: [] });
  });

  it('keeps its record while its value holds; converged means no change', () => {
    const record = { [SRC_VALID_MARK]: { was: '0', set: '1' } };
    expect(planSysctls(want, { ...strict, values: { [SRC_VALID_MARK]: '1' } }, record)).toEqual({ changes: [], record, released: [] });
  });

  it('restores the old value when no longer wanted, only if it still holds what tsfw wrote', () => {
    const record = { [SRC_VALID_MARK]: { was: '0', set: '1' } };
    const back = planSysctls({}, { ...strict, values: { [SRC_VALID_MARK]: '1' } }, record);
    expect(back.changes).toEqual([expect.objectContaining({ key: SRC_VALID_MARK, from: '1', to: '0' })]);
    expect(back.record).toEqual({});
    const changed = planSysctls({}, { ...strict, values: { [SRC_VALID_MARK]: '0' } }, record);
    expect(changed).toEqual({ changes: [], record: {}, released: [SRC_VALID_MARK] });
  });

  it('re-sets a value someone reset while still wanted, keeping the original "was"', () => {
    const record = { [SRC_VALID_MARK]: { was: '0', set: '1' } };
    const plan = planSysctls(want, strict, record);
    expect(plan.changes).toHaveLength(1);
    expect(plan.record).toEqual(record);
  });

  it('a key this kernel lacks is skipped', () => {
    expect(planSysctls(want, { values: {}, rpFilter: { all: '1' } }, {})).toEqual({ changes: [], record: {}, released: [] });
  });
});
