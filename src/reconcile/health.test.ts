import { describe, expect, it } from 'vitest';
import { assessHealth } from './health.js';
import { initialState, recordPass, recordStop } from './state-tracker.js';
import type { DaemonFacts } from './state-tracker.js';

const facts: DaemonFacts = {
  pid: 4242,
  startedAt: Date.UTC(2025, 0, 1),
  config: null,
  mode: 'on',
  backend: 'nftables',
  backendReason: 'auto: no iptables rules in either flavour',
  evidence: [],
  schedule: '*/10 * * * * *',
  monitor: { enabled: true, running: true, restarts: 0, lostEvents: 0 },
  backoff: { active: false, heldPasses: 0, episodes: 0, objects: [] },
  bucket: { tokens: 10, burst: 10, refillPerMinute: 6 },
};
const t0 = Date.UTC(2025, 0, 1, 0, 0, 5);
const MAX = 120_000;
const started = initialState(facts, t0);
const passed = recordPass(started, { trigger: { cause: 'schedule' }, at: t0, result: 'quiet', durationMs: 2 }, facts, t0);

describe('assessHealth', () => {
  it('is healthy while the last pass is recent and good', () => {
    expect(assessHealth({ state: passed, alive: true }, t0 + 30_000, MAX)).toEqual({ healthy: true, reason: 'last pass 30 s ago (schedule, quiet)' });
  });

  it('is unhealthy when the last pass is older than the limit (a hung daemon)', () => {
    const h = assessHealth({ state: passed, alive: true }, t0 + 121_000, MAX);
    expect(h.healthy).toBe(false);
    expect(h.reason).toMatch(/last pass 121 s ago, more than 120 s/);
  });

  it.each([
    ['no state file', undefined, /has not started/],
    ['not ready yet', { state: started, alive: true }, /no successful pass yet/],
    ['pid gone', { state: passed, alive: false }, /pid 4242\) is gone/],
    ['stopped', { state: recordStop(passed, t0 + 1), alive: false }, /stopped at/],
    ['failed pass', { state: recordPass(passed, { trigger: { cause: 'event' }, at: t0 + 1, result: 'error', durationMs: 1, error: new Error('nft: boom') }, facts, t0 + 1), alive: true }, /failed: nft: boom/],
    ['held repair', { state: recordPass(passed, { trigger: { cause: 'event' }, at: t0 + 1, result: 'held', durationMs: 1 }, facts, t0 + 1), alive: true }, /held back/],
  ] as const)('is unhealthy: %s', (_name, found, reason) => {
    const h = assessHealth(found, t0 + 2_000, MAX);
    expect(h.healthy).toBe(false);
    expect(h.reason).toMatch(reason);
  });
});
