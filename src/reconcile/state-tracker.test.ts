import { describe, expect, it } from 'vitest';
import type { ConvergeResult } from './converge.js';
import { formatDaemonState, statusLine } from './state-format.js';
import { initialState, recordConfigError, recordPass, recordStop } from './state-tracker.js';
import type { DaemonFacts } from './state-tracker.js';

const facts: DaemonFacts = {
  pid: 4242,
  startedAt: Date.UTC(2025, 0, 1),
  config: '/etc/tsfw/config.yaml',
  mode: 'on',
  backend: 'nftables',
  backendReason: 'auto: no iptables rules in either flavour',
  evidence: [],
  schedule: '*/10 * * * * *',
  monitor: { enabled: true, running: true, restarts: 0, lostEvents: 0 },
  backoff: { active: false, heldPasses: 0, episodes: 0, objects: [] },
  bucket: { tokens: 10, burst: 10, refillPerMinute: 6 },
};

const repaired: ConvergeResult = {
  changed: true, dryRun: false, writes: [], sysctls: [], integrations: [], mode: 'on', backend: 'nftables', warnings: [], durationMs: 7,
  actions: [{ op: 'fill-chain', family: 'inet', table: 'tsfw', chain: 'ts-input', reason: 'x' }],
  drift: [{ kind: 'missing', family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/cgnat-spoof', detail: 'rule ts-input/cgnat-spoof is missing or edited' }],
};

const t0 = Date.UTC(2025, 0, 1, 0, 0, 5);

describe('daemon state', () => {
  it('records repairs with cause, drift and counts; quiet passes only update lastPass', () => {
    let s = initialState(facts, t0);
    s = recordPass(s, { trigger: { cause: 'event', detail: 'delete rule inet tsfw ts-input' }, at: t0, result: 'repaired', durationMs: 9.5, converge: repaired }, facts, t0);
    s = recordPass(s, { trigger: { cause: 'schedule' }, at: t0 + 1000, result: 'quiet', durationMs: 2 }, facts, t0 + 1000);
    expect(s.ready).toBe(true);
    expect(s.repairs).toEqual({ total: 1, byCause: { event: 1 }, byObject: { 'inet tsfw chain ts-input': 1 } });
    expect(s.lastRepair).toMatchObject({ cause: 'event', detail: 'delete rule inet tsfw ts-input', drift: ['rule ts-input/cgnat-spoof is missing or edited'], actions: ['fill-chain inet tsfw ts-input'] });
    expect(s.lastPass).toMatchObject({ cause: 'schedule', result: 'quiet' });
    expect(s.passes).toEqual({ total: 2, errors: 0 });
    expect(statusLine(s)).toBe('mode on on nftables, 1 repair(s); last 2025-01-01T00:00:05.000Z: rule ts-input/cgnat-spoof is missing or edited');
  });

  it('a failed first pass does not make the daemon ready', () => {
    const s = recordPass(initialState(facts, t0), { trigger: { cause: 'startup' }, at: t0, result: 'error', durationMs: 1, error: new Error('nft: not installed') }, facts, t0);
    expect(s.ready).toBe(false);
    expect(s.lastPass).toMatchObject({ result: 'error', error: 'nft: not installed' });
  });

  it('shows backoff, config errors and a dead daemon in status', () => {
    const backoff = { active: true, since: '2025-01-01T00:01:00.000Z', until: '2025-01-01T00:01:10.000Z', heldPasses: 4, episodes: 1, objects: [{ object: 'inet tsfw chain ts-input', count: 10 }] };
    let s = initialState({ ...facts, backoff }, t0);
    s = recordConfigError(s, ['config.yaml: cgnat.range: not a CIDR'], t0);
    const text = formatDaemonState(s, true).join('\n');
    expect(text).toContain('running (pid 4242');
    expect(text).toContain('BACKING OFF since 2025-01-01T00:01:00.000Z: repairs keep being undone (inet tsfw chain ts-input ×10)');
    expect(text).toContain('config reload REJECTED');
    expect(text).toContain('cgnat.range: not a CIDR');
    expect(statusLine(s)).toBe('backing off: inet tsfw chain ts-input undone 10x');
    expect(formatDaemonState(s, false)[0]).toContain('NOT RUNNING (pid 4242 is gone');
    expect(formatDaemonState(recordStop(s, t0), false)[0]).toBe('daemon:   stopped at 2025-01-01T00:00:05.000Z');
  });
});
