import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/types.js';
import { tempConfig, tsfwVia } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { cliEnv, startTsfwDaemon } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { startFirewalld } from '../helpers/firewalld.js';
import type { Firewalld } from '../helpers/firewalld.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * The firewalld acceptance, under the daemon: firewalld (default config) and tsfw in mode
 * on on the namespace router. Before each `--reload`, `--complete-reload` and restart, the
 * permanent zone files are put back to firewalld's defaults behind everybody's back (what config
 * management does), so firewalld's rebuilt configuration lacks tsfw's items: only the daemon's
 * reaction to firewalld's signals brings the traffic back (the schedule is once a year, and
 * firewalld's table is not tsfw's, so the nft monitor does not react).
 */

const ENV = { SSH_CONNECTION: '' };
const PASSING = { input: true, wireguard: true, forward: true, spoof: false };

async function probes(net: Router): Promise<Record<'input' | 'wireguard' | 'forward' | 'spoof', boolean>> {
  // Short waits: a round that fails is repeated, so "late" only costs another round.
  const input = await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 5555, waitMs: 300 });
  const wireguard = await probeUdp(net.wan, net.router, { src: ADDR.wanHost, dst: ADDR.routerWan, port: 41641, waitMs: 300 });
  const forward = await probeUdp(net.peer, net.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: 5556, waitMs: 300 });
  const spoof = await probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: 5557, waitMs: 300 });
  return { input: input.arrived, wireguard: wireguard.arrived, forward: forward.arrived, spoof: spoof.arrived };
}

/** Polls the probes until they all pass; resolves with the milliseconds it took, or throws after `ms`. */
async function passesWithin(net: Router, ms: number): Promise<number> {
  const start = Date.now();
  let last = await probes(net);
  while (JSON.stringify(last) !== JSON.stringify(PASSING)) {
    if (Date.now() - start > ms) throw new Error(`tailnet traffic still blocked after ${ms} ms: ${JSON.stringify(last)}`);
    last = await probes(net);
  }
  return Date.now() - start;
}

describe('firewalld acceptance under the daemon (real firewalld, namespace router)', () => {
  let net: Router;
  let fw: Firewalld;
  let cfg: TempConfig;
  let daemon: DaemonProcess | undefined;
  let zones: { runtime: string; permanent: string };
  const listZones = async () => ({ runtime: await fw.cmd('--list-all-zones'), permanent: await fw.cmd('--permanent', '--list-all-zones') });
  const added = () => daemon!.logs.filter((l) => l.msg === 'integration change' && l.op === 'add').length;

  beforeAll(async () => {
    net = await createRouter();
    fw = await startFirewalld(net.router);
    zones = await listZones();
    cfg = tempConfig({ mode: 'on', backend: 'auto', reconcile: { schedule: '0 0 1 1 *' } });
    daemon = await startTsfwDaemon(net.router, cfg.path, ENV, { wrap: fw.wrap });
  }, 90_000);
  afterAll(async () => {
    await daemon?.stop();
    cfg?.remove();
    await fw?.destroy();
    await net?.destroy();
  });

  it('mode on: tailnet input, the WireGuard port and tailnet forwarding pass, the spoof is dropped', async () => {
    await passesWithin(net, 10_000);
    expect(added()).toBe(6); // two zone-defaults notes, and the interface and the port in both layers
  });

  it.each([
    ['--reload', () => fw.cmd('--reload')],
    ['--complete-reload', () => fw.cmd('--complete-reload')],
    ['a restart', () => fw.restart()],
  ])('after %s from default permanent zones, the traffic passes again within 5 s', async (_kind, reload) => {
    const before = added();
    for (const zone of ['trusted', 'public']) rmSync(join(fw.etcDir, 'zones', `${zone}.xml`), { force: true });
    await reload();
    const took = await passesWithin(net, 5_000);
    // The daemon put tsfw's items back (runtime and permanent): its answer to firewalld's signal.
    await daemon!.waitFor('the items added again', () => added() - before >= 4, 5_000);
    expect(await fw.cmd('--permanent', '--get-zone-of-interface=tailscale0')).toBe('trusted');
    expect(took).toBeLessThanOrEqual(5_000);
  });

  it('doctor exits 0 with no warning about firewalld', async () => {
    const run = await tsfwVia<{ checks: Check[] }>(fw.enter, ['doctor', '-c', cfg.path, '--json'], { ...ENV, ...cliEnv(daemon!.runDir) });
    const fwChecks = run.json!.checks.filter((c) => /firewalld/i.test(`${c.id} ${c.message}`));
    expect(fwChecks.length).toBeGreaterThan(0);
    expect(fwChecks.filter((c) => c.status !== 'ok')).toEqual([]);
    expect(run.exitCode, JSON.stringify(run.json!.checks.filter((c) => c.status !== 'ok'))).toBe(0);
  });

  it('apply --mode off: both --list-all-zones outputs equal what they were before tsfw ran', async () => {
    const run = await tsfwVia(fw.enter, ['apply', '--mode', 'off', '-c', cfg.path, '--json'], { ...ENV, ...cliEnv(daemon!.runDir) });
    expect(run.exitCode, run.stderr).toBe(0);
    expect(await listZones()).toEqual(zones);
    expect(await probes(net)).toMatchObject({ input: false, wireguard: false, forward: false });
  });
});
