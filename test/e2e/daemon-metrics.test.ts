import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { startTsfwDaemon } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { parsePrometheusText } from '../helpers/prom-text.js';
import type { Exposition } from '../helpers/prom-text.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * The daemon's metrics on the namespace router: `metrics.textfile` rewritten after every pass and
 * `metrics.listen` served on the router namespace's own loopback (scraped from inside it), pass
 * and repair counters moving with passes and tampers, per-rule counters with real packets, and
 * the listener closed on stop.
 */

/** Fetches a URL from inside a namespace (loopback is per namespace). */
const FETCH = `
fetch(process.argv[1]).then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, type: r.headers.get('content-type'), body: await r.text() })),
  (e) => process.stdout.write(JSON.stringify({ error: String(e.cause?.code ?? e.message) })));
`;

interface Scrape {
  readonly status?: number;
  readonly type?: string;
  readonly body?: string;
  readonly error?: string;
}

const tunnel = { family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/tunnel-accept' };
const spoof = { family: 'inet', table: 'tsfw', chain: 'ts-input', rule: 'ts-input/cgnat-spoof' };
const passesIn = (p: Exposition) => ['converged', 'repaired', 'held', 'settling', 'error'].reduce((n, result) => n + (p.value('tsfw_passes_total', { result }) ?? 0), 0);

describe('tsfw daemon metrics (namespace router)', () => {
  let net: Router;
  let cfg: TempConfig;
  let dir: string;
  let daemon: DaemonProcess | undefined;
  let textfile: string;
  const port = 20_000 + Math.floor(Math.random() * 40_000);

  const scrape = async (): Promise<Scrape> => {
    const r = await execa('ip', ['netns', 'exec', net.router.name, process.execPath, '-e', FETCH, `http://127.0.0.1:${port}/metrics`]);
    return JSON.parse(String(r.stdout)) as Scrape;
  };
  const fromFile = (): Exposition | undefined => {
    try {
      return parsePrometheusText(readFileSync(textfile, 'utf8'));
    } catch {
      return undefined;
    }
  };
  /** The textfile once it accounts for every pass state.json has counted (it is written just after). */
  const settledFile = async (): Promise<Exposition> =>
    daemon!.waitFor('the textfile to count every pass', () => {
      const p = fromFile();
      return p !== undefined && passesIn(p) === daemon!.state()?.passes.total ? p : undefined;
    });
  /** SIGHUP, then the textfile of the pass it caused. */
  const pass = async (): Promise<Exposition> => {
    const before = daemon!.state()!.passes.total;
    daemon!.signal('SIGHUP');
    await daemon!.waitFor('a pass after SIGHUP', () => daemon!.state()!.passes.total > before);
    return settledFile();
  };

  beforeAll(async () => {
    net = await createRouter();
    dir = mkdtempSync(join(tmpdir(), 'tsfw-dprom-'));
    textfile = join(dir, 'collector', 'tsfw.prom');
    // A yearly schedule: the passes below are the test's own (start, SIGHUP, a tamper's events).
    // (An hourly one fired at xx:00:00 in the middle of a run and added a converged pass.)
    cfg = tempConfig({
      mode: 'on', backend: 'nftables', reconcile: { schedule: '0 0 0 1 1 *' },
      metrics: { textfile, listen: `127.0.0.1:${port}` },
    });
    daemon = await startTsfwDaemon(net.router, cfg.path);
  });
  afterAll(async () => {
    if (daemon) await daemon.stop();
    cfg?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
    await net?.destroy();
  });

  it('writes the start-up pass to the textfile and serves the same over HTTP on loopback', async () => {
    const file = await settledFile();
    expect(file.types.get('tsfw_passes_total')).toBe('counter');
    expect(file.value('tsfw_passes_total', { result: 'repaired' })).toBe(1);
    expect(file.value('tsfw_repairs_total', { cause: 'missing' })).toBeGreaterThanOrEqual(1);
    expect(file.value('tsfw_backoff')).toBe(0);
    const last = file.value('tsfw_last_pass_timestamp_seconds')!;
    expect(Math.abs(last - Date.now() / 1000)).toBeLessThan(120);
    expect(file.value('tsfw_last_success_timestamp_seconds')).toBe(last);
    expect(file.value('tsfw_rule_present', tunnel)).toBe(1);
    expect(file.value('tsfw_rule_packets_total', tunnel)).toBe(0);

    const http = await scrape();
    expect(http).toMatchObject({ status: 200 });
    expect(http.type).toMatch(/^text\/plain/);
    const served = parsePrometheusText(http.body!);
    expect(served.value('tsfw_passes_total', { result: 'repaired' })).toBe(1);
    expect(served.value('tsfw_rule_present', spoof)).toBe(1);
    // The listener is bound to the namespace's loopback only: the LAN side cannot reach it.
    const fromLan = await execa('ip', ['netns', 'exec', net.lan.name, process.execPath, '-e', FETCH, `http://${ADDR.routerLan}:${port}/metrics`]);
    expect(JSON.parse(String(fromLan.stdout))).toMatchObject({ error: 'ECONNREFUSED' });
  });

  it('per-rule counters and pass counters move when packets hit the rules and passes run', async () => {
    const before = await settledFile();
    for (let i = 0; i < 3; i++) {
      expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7400 + i })).arrived).toBe(true);
    }
    expect((await probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: 7500 })).arrived).toBe(false);

    const after = await pass();
    // The SIGHUP pass, and any other pass meanwhile, converged (nothing to repair).
    const passes = passesIn(after) - passesIn(before);
    expect(passes).toBeGreaterThanOrEqual(1);
    expect(after.value('tsfw_passes_total', { result: 'converged' })).toBe((before.value('tsfw_passes_total', { result: 'converged' }) ?? 0) + passes);
    expect(after.value('tsfw_rule_packets_total', tunnel)! - before.value('tsfw_rule_packets_total', tunnel)!).toBeGreaterThanOrEqual(3);
    expect(after.value('tsfw_rule_packets_total', spoof)! - before.value('tsfw_rule_packets_total', spoof)!).toBe(1);
    expect(after.value('tsfw_rule_bytes_total', spoof)).toBeGreaterThan(0);
    expect(after.value('tsfw_last_pass_timestamp_seconds')).toBeGreaterThan(before.value('tsfw_last_pass_timestamp_seconds')!);

    const served = parsePrometheusText((await scrape()).body!);
    expect(served.value('tsfw_rule_packets_total', spoof)).toBe(after.value('tsfw_rule_packets_total', spoof));
    expect(served.value('tsfw_passes_total', { result: 'converged' })).toBe(after.value('tsfw_passes_total', { result: 'converged' }));
  });

  it('a tamper is repaired from kernel events and counted under its cause', async () => {
    const before = await settledFile();
    expect(before.value('tsfw_repairs_total', { cause: 'unexpected' }) ?? 0).toBe(0);
    const repairs = daemon!.state()!.repairs.total;
    await net.router.sh('nft insert rule inet tsfw ts-input counter accept');
    await daemon!.waitFor('the repair of the rogue rule', () => daemon!.state()!.repairs.total > repairs);
    const after = await settledFile();
    expect(after.value('tsfw_repairs_total', { cause: 'unexpected' })).toBe(1);
    expect(after.value('tsfw_passes_total', { result: 'repaired' })).toBe(before.value('tsfw_passes_total', { result: 'repaired' })! + 1);
    expect(after.value('tsfw_repairs_total', { cause: 'missing' })).toBe(before.value('tsfw_repairs_total', { cause: 'missing' }));
    expect(after.value('tsfw_errors_total')).toBeUndefined();
    const served = parsePrometheusText((await scrape()).body!);
    expect(served.value('tsfw_repairs_total', { cause: 'unexpected' })).toBe(1);
  });

  it('stops serving on stop (an open listener would also keep the process from exiting)', async () => {
    expect(await daemon!.stop()).toBe(0);
    daemon = undefined;
    expect(await scrape()).toEqual({ error: 'ECONNREFUSED' });
  });
});
