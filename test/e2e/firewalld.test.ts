import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/types.js';
import { tempConfig, tsfwVia } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { startFirewalld } from '../helpers/firewalld.js';
import type { Firewalld } from '../helpers/firewalld.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * tsfw beside the real firewalld (default config, default zone public) on the namespace router:
 * the CLI in mode on asks firewalld over D-Bus for the trusted zone and the WireGuard port, the
 * traffic firewalld rejected before passes, and mode off leaves both of firewalld's
 * configurations exactly as they were.
 */

const ENV = { SSH_CONNECTION: '' };

/** The three kinds of tailnet traffic of the issue, and the spoof that must stay dropped. */
async function probes(net: Router): Promise<Record<'input' | 'wireguard' | 'forward' | 'spoof', boolean>> {
  const input = await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 5555 });
  const wireguard = await probeUdp(net.wan, net.router, { src: ADDR.wanHost, dst: ADDR.routerWan, port: 41641 });
  const forward = await probeUdp(net.peer, net.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: 5556 });
  const spoof = await probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: 5557 });
  return { input: input.arrived, wireguard: wireguard.arrived, forward: forward.arrived, spoof: spoof.arrived };
}

const PASSING = { input: true, wireguard: true, forward: true, spoof: false };

describe('firewalld integration (real firewalld, namespace router)', () => {
  let net: Router;
  let fw: Firewalld;
  let cfg: TempConfig;
  let runDir: string;
  let zones: { runtime: string; permanent: string };
  const listZones = async () => ({ runtime: await fw.cmd('--list-all-zones'), permanent: await fw.cmd('--permanent', '--list-all-zones') });
  let filesBefore: string[];
  const zoneFiles = () => readdirSync(join(fw.etcDir, 'zones')).filter((f) => !f.endsWith('.old')).sort();
  const cli = (args: string[]) => tsfwVia<ConvergeReport>(fw.enter, args, { ...ENV, TSFW_RUN_DIR: runDir });

  beforeAll(async () => {
    net = await createRouter();
    fw = await startFirewalld(net.router);
    cfg = tempConfig({ mode: 'on', backend: 'auto' });
    runDir = mkdtempSync(join(tmpdir(), 'tsfw-run-'));
    zones = await listZones();
    filesBefore = zoneFiles();
  }, 90_000);
  afterAll(async () => {
    cfg?.remove();
    if (runDir) rmSync(runDir, { recursive: true, force: true });
    await fw?.destroy();
    await net?.destroy();
  });

  it('firewalld alone rejects tailnet input, the WireGuard port and forwarded tailnet traffic', async () => {
    expect(await probes(net)).toEqual({ input: false, wireguard: false, forward: false, spoof: false });
  });

  it('doctor fails (exit 1) on firewalld\'s default config with the integration off, persistent fix first; explain names the reject', async () => {
    const off = tempConfig({ mode: 'on', backend: 'auto', integrations: { firewalld: 'off' } });
    try {
      const run = await tsfwVia<{ checks: Check[] }>(fw.enter, ['doctor', '-c', off.path, '--json'], { ...ENV, TSFW_RUN_DIR: runDir });
      expect(run.exitCode).toBe(1);
      const check = run.json!.checks.find((c) => c.id === 'firewalld')!;
      expect(check.status).toBe('fail');
      expect(check.fix!.split('\n')[0]).toBe('firewall-cmd --permanent --zone=trusted --add-interface=tailscale0 && firewall-cmd --permanent --zone=public --add-port=41641/udp && firewall-cmd --reload');
      expect(check.fix!.split('\n')[1]).toMatch(/^# not persistent/);
      expect(run.json!.checks.some((c) => c.fix?.includes('inet firewalld'))).toBe(false);
      // apply says the same in one warning line (a dry run: nothing is written here).
      const dry = await cli(['apply', '--dry-run', '--no-save', '-c', off.path, '--json']);
      expect(dry.json!.warnings.filter((w) => w.startsWith('tsfw doctor would fail: firewalld rejects tailnet traffic'))).toHaveLength(1);
      const explain = await tsfwVia(fw.enter, ['explain', '-c', off.path, '--src', ADDR.peer, '--dst', ADDR.lanHost, '--iif', 'tailscale0', '--oif', 'lan0', '--proto', 'udp', '--dport', '5556'], ENV);
      expect(explain.stdout).toContain('table inet firewalld chain filter_FORWARD (ends in reject)');
    } finally {
      off.remove();
    }
  });

  it('apply in mode on binds the tunnel to trusted and opens the port in both layers: the traffic passes', async () => {
    const run = await cli(['apply', '-c', cfg.path, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.backend).toBe('nftables');
    expect(run.json!.integrations.map((c) => `${c.op} ${c.kind} ${c.value} ${c.permanent}`)).toEqual([
      expect.stringMatching(/^add zone-defaults trusted:[0-9a-f]{16} true$/), expect.stringMatching(/^add zone-defaults public:[0-9a-f]{16} true$/),
      'add zone-interface trusted:tailscale0 false', 'add zone-interface trusted:tailscale0 true',
      'add port public:41641/udp false', 'add port public:41641/udp true',
    ]);
    expect(zoneFiles()).toEqual(['public.xml', 'trusted.xml']);
    expect(await fw.cmd('--get-zone-of-interface=tailscale0')).toBe('trusted');
    expect(await fw.cmd('--permanent', '--get-zone-of-interface=tailscale0')).toBe('trusted');
    expect(await fw.cmd('--permanent', '--zone=public', '--list-ports')).toBe('41641/udp');
    expect(await probes(net)).toEqual(PASSING);
    // Converged: a second apply changes nothing, here or in firewalld.
    const again = await cli(['apply', '-c', cfg.path, '--json']);
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.json!.integrations).toEqual([]);
  });

  it('apply --mode off removes exactly what it added: both --list-all-zones outputs equal the start', async () => {
    const run = await cli(['apply', '--mode', 'off', '-c', cfg.path, '--json']);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.integrations.map((c) => c.op)).toEqual(['remove', 'remove', 'remove', 'remove', 'remove', 'remove']);
    expect(await listZones()).toEqual(zones);
    // Both zones are firewalld's built-in defaults again: no copy of them in /etc/firewalld/zones
    // (firewalld keeps its own `.xml.old` backup of the last copy, as after any permanent change).
    expect(zoneFiles()).toEqual(filesBefore);
  });
});
