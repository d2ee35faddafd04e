import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfw, tsfwJson } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { parsePrometheusText } from '../helpers/prom-text.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

const ENV = { SSH_CONNECTION: '' };

/** The CLI helper strips stdout's final newline; the exposition format requires it. */
const exposition = (stdout: string) => parsePrometheusText(`${stdout}\n`);

describe('tsfw metrics (namespace router)', () => {
  let net: Router;
  let cfg: TempConfig;
  let dir: string;
  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({ mode: 'on', backend: 'nftables' });
    dir = mkdtempSync(join(tmpdir(), 'tsfw-prom-'));
    await tsfwJson(net.router, ['apply', '-c', cfg.path], ENV);
  });
  afterAll(async () => {
    cfg?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await net?.destroy();
  });

  const tunnel = { family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/tunnel-accept' };
  const spoof = { family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/cgnat-spoof' };

  it('prints valid Prometheus text whose per-rule counters move when packets hit the rules', async () => {
    const before = await tsfw(net.router, ['metrics', '-c', cfg.path], ENV);
    expect(before.exitCode).toBe(0);
    const p0 = exposition(before.stdout);
    expect(p0.types.get('tsfw_rule_packets_total')).toBe('counter');
    expect(p0.value('tsfw_rule_present', tunnel)).toBe(1);
    const tunnel0 = p0.value('tsfw_rule_packets_total', tunnel) ?? NaN;
    const spoof0 = p0.value('tsfw_rule_packets_total', spoof) ?? NaN;

    for (let i = 0; i < 3; i++) {
      expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7400 + i })).arrived).toBe(true);
    }
    expect((await probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: 7500 })).arrived).toBe(false);

    const after = exposition((await tsfw(net.router, ['metrics', '-c', cfg.path], ENV)).stdout);
    expect(after.value('tsfw_rule_packets_total', tunnel)! - tunnel0).toBeGreaterThanOrEqual(3);
    expect(after.value('tsfw_rule_packets_total', spoof)! - spoof0).toBe(1);
    expect(after.value('tsfw_rule_bytes_total', spoof)).toBeGreaterThan(0);
  });

  it('--textfile writes the same exposition atomically for node_exporter', async () => {
    const path = join(dir, 'tsfw.prom');
    const run = await tsfw(net.router, ['metrics', '-c', cfg.path, '--textfile', path], ENV);
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe('');
    const p = parsePrometheusText(readFileSync(path, 'utf8'));
    expect(p.value('tsfw_rule_packets_total', tunnel)).toBeGreaterThanOrEqual(3);
  });

  it('reports a missing rule as present 0 after someone deletes it', async () => {
    const listed = await net.router.exec('nft', ['-a', 'list', 'chain', 'inet', 'tsfw', 'ts-input']);
    const handle = /cgnat-spoof" # handle (\d+)/.exec(listed.stdout)?.[1];
    expect(handle).toBeDefined();
    await net.router.exec('nft', ['delete', 'rule', 'inet', 'tsfw', 'ts-input', 'handle', handle!]);
    const p = exposition((await tsfw(net.router, ['metrics', '-c', cfg.path], ENV)).stdout);
    expect(p.value('tsfw_rule_present', spoof)).toBe(0);
    expect(p.value('tsfw_rule_present', tunnel)).toBe(1);
  });
});
