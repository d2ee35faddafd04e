import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../log/logger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../test/helpers/prom-text.js';
import { createDaemonMetrics } from './daemon-metrics.js';
import type { PassOutcome } from './reconciler.js';

const log = createLogger('silent');

const repaired: PassOutcome = {
  trigger: { cause: 'event' },
  at: 1_700_000_000_000,
  result: 'repaired',
  durationMs: 3,
  converge: {
    changed: true, dryRun: false, writes: [], sysctls: [], integrations: [], mode: 'on', backend: 'fake', actions: [], warnings: [], durationMs: 3,
    drift: [{ kind: 'unexpected', family: 'inet', table: 'tsfw', chain: 'ts-input', detail: 'rogue rule' }],
  },
  objects: [{ family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/tunnel-accept', present: true, packets: 4, bytes: 400 }],
};

const randomPort = () => 20_000 + Math.floor(Math.random() * 40_000);

describe('daemon metrics', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is off until configured, then records passes and rule counters into the textfile', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsfw-dm-'));
    const path = join(dir, 'tsfw.prom');
    const m = createDaemonMetrics(log);
    expect(m.enabled()).toBe(false);
    m.record(repaired, false);
    await m.configure({ textfile: path });
    expect(m.enabled()).toBe(true);
    m.record(repaired, false);
    m.record({ trigger: { cause: 'schedule' }, at: 1_700_000_010_000, result: 'held', durationMs: 1, converge: repaired.converge! }, true);
    await m.close();
    const p = parsePrometheusText(readFileSync(path, 'utf8'));
    // The pass recorded before configure is not counted.
    expect(p.value('tsfw_passes_total', { result: 'repaired' })).toBe(1);
    expect(p.value('tsfw_passes_total', { result: 'held' })).toBe(1);
    expect(p.value('tsfw_repairs_total', { cause: 'unexpected' })).toBe(1);
    expect(p.value('tsfw_backoff')).toBe(1);
    expect(p.value('tsfw_last_success_timestamp_seconds')).toBe(1_700_000_000);
    expect(p.value('tsfw_rule_packets_total', { rule: 'ts-input/tunnel-accept' })).toBe(4);
  });

  it('serves /metrics on the configured loopback address, moves on reconfigure and closes on close', async () => {
    const m = createDaemonMetrics(log);
    const first = randomPort();
    const second = first + 1;
    await m.configure({ listen: `127.0.0.1:${first}` });
    m.record(repaired, false);
    const body = await (await fetch(`http://127.0.0.1:${first}/metrics`)).text();
    expect(parsePrometheusText(body).value('tsfw_passes_total', { result: 'repaired' })).toBe(1);
    await m.configure({ listen: `127.0.0.1:${second}` });
    await expect(fetch(`http://127.0.0.1:${first}/metrics`)).rejects.toThrow();
    expect((await fetch(`http://127.0.0.1:${second}/metrics`)).status).toBe(200);
    await m.close();
    await expect(fetch(`http://127.0.0.1:${second}/metrics`)).rejects.toThrow();
  });
});
