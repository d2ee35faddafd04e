import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parsePrometheusText } from '../../test/helpers/prom-text.js';
import type { ObjectStatus } from '../backends/types.js';
import { createMetrics } from './registry.js';
import { startMetricsServer } from './server.js';
import type { MetricsServer } from './server.js';
import { writeTextfile } from './textfile.js';

const rule = (id: string, packets: number, bytes: number, present = true): ObjectStatus =>
  ({ family: 'inet', table: 'tsfw', chain: id.split('/')[0]!, rule: id, present, ...(present ? { packets, bytes } : {}) });

describe('tsfw metrics', () => {
  it('counts passes, repairs by cause, errors, backoff and pass times, as valid exposition text', async () => {
    const m = createMetrics();
    m.recordPass({ changed: false, drift: [], backoff: false, at: new Date(1_700_000_000_000) });
    m.recordPass({
      changed: true, backoff: true, at: new Date(1_700_000_010_000),
      drift: [
        { kind: 'missing', family: 'inet', table: 'tsfw', chain: 'ts-input', detail: 'x' },
        { kind: 'missing', family: 'inet', table: 'tsfw', chain: 'ts-forward', detail: 'y' },
        { kind: 'misordered', family: 'inet', table: 'tsfw', chain: 'ts-input', detail: 'z' },
      ],
    });
    m.recordPass({ changed: false, drift: [], backoff: true, error: Object.assign(new Error('busy'), { kind: 'busy' }), at: new Date(1_700_000_020_000) });
    m.recordPass({ changed: true, held: true, backoff: true, at: new Date(1_700_000_030_000), drift: [{ kind: 'unexpected', family: 'inet', table: 'tsfw', chain: 'ts-input', detail: 'w' }] });
    // Docker moving tsfw's jump down: the repair waits for it, which is not a success yet.
    m.recordPass({ changed: false, settling: true, backoff: true, at: new Date(1_700_000_040_000), drift: [{ kind: 'misordered', family: 'inet', table: 'tsfw', chain: 'ts-input', detail: 'v' }] });
    const p = parsePrometheusText(await m.text());
    expect(p.types.get('tsfw_passes_total')).toBe('counter');
    expect(p.value('tsfw_passes_total', { result: 'converged' })).toBe(1);
    expect(p.value('tsfw_passes_total', { result: 'repaired' })).toBe(1);
    expect(p.value('tsfw_passes_total', { result: 'error' })).toBe(1);
    expect(p.value('tsfw_passes_total', { result: 'held' })).toBe(1);
    expect(p.value('tsfw_passes_total', { result: 'settling' })).toBe(1);
    expect(p.value('tsfw_repairs_total', { cause: 'unexpected' })).toBeUndefined();
    expect(p.value('tsfw_repairs_total', { cause: 'missing' })).toBe(2);
    expect(p.value('tsfw_repairs_total', { cause: 'misordered' })).toBe(1);
    expect(p.value('tsfw_errors_total', { kind: 'busy' })).toBe(1);
    expect(p.value('tsfw_backoff')).toBe(1);
    expect(p.value('tsfw_last_pass_timestamp_seconds')).toBe(1_700_000_040);
    expect(p.value('tsfw_last_success_timestamp_seconds')).toBe(1_700_000_010);
  });

  it('replaces rule counters with each kernel reading instead of adding them up', async () => {
    const m = createMetrics();
    m.recordObjects([rule('ts-input/tunnel-accept', 5, 500), { family: 'inet', table: 'tsfw', chain: 'ts-input', present: true }]);
    m.recordObjects([rule('ts-input/tunnel-accept', 7, 700), rule('ts-input/cgnat-spoof', 0, 0, false)]);
    const p = parsePrometheusText(await m.text());
    const labels = { family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/tunnel-accept' };
    expect(p.value('tsfw_rule_packets_total', labels)).toBe(7);
    expect(p.value('tsfw_rule_bytes_total', labels)).toBe(700);
    expect(p.value('tsfw_rule_present', labels)).toBe(1);
    expect(p.value('tsfw_rule_present', { rule: 'ts-input/cgnat-spoof' })).toBe(0);
    expect(p.value('tsfw_rule_packets_total', { rule: 'ts-input/cgnat-spoof' })).toBeUndefined();
  });

  it('the strict parser rejects malformed exposition (so the checks above can fail)', () => {
    expect(() => parsePrometheusText('x 1\n')).toThrow(/before its TYPE/);
    expect(() => parsePrometheusText('# TYPE x counter\nx{a="b} 1\n')).toThrow(/bad/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx 1\nx 2\n')).toThrow(/duplicate/);
    expect(() => parsePrometheusText('# TYPE x gauge\nx 1')).toThrow(/newline/);
  });

  it('writes the textfile atomically, leaving no temp file behind', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsfw-metrics-'));
    const path = join(dir, 'sub', 'tsfw.prom');
    const m = createMetrics();
    writeTextfile(path, await m.text());
    writeTextfile(path, await m.text());
    expect(readdirSync(join(dir, 'sub'))).toEqual(['tsfw.prom']);
    expect(parsePrometheusText(readFileSync(path, 'utf8')).value('tsfw_backoff')).toBe(0);
  });

  describe('loopback HTTP listener', () => {
    let server: MetricsServer | undefined;
    afterEach(async () => {
      await server?.close();
    });
    it('serves /metrics and nothing else', async () => {
      const m = createMetrics();
      m.recordPass({ changed: false, drift: [], backoff: false, at: new Date() });
      server = await startMetricsServer(m, { host: '127.0.0.1', port: 0 });
      const ok = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-type')).toMatch(/^text\/plain/);
      expect(parsePrometheusText(await ok.text()).value('tsfw_passes_total', { result: 'converged' })).toBe(1);
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    });
  });
});
