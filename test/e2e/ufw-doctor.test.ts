import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';
import { startUfwHost } from '../helpers/ufw.js';
import type { UfwHost } from '../helpers/ufw.js';

/**
 * doctor beside an enabled ufw with `backend: nftables` forced and `integrations.ufw: off`: ufw
 * certainly drops tailnet traffic, so doctor fails naming ufw (persistent fix first) and apply
 * prints one warning line; once the admin runs the persistent fix, doctor confirms it from
 * ufw's rules and says ok, and apply's warning is gone.
 */

const ENV = { SSH_CONNECTION: '' };

interface DoctorReport {
  readonly checks: readonly { id: string; status: string; message: string; fix: string | null }[];
}

describe('doctor and apply beside ufw with backend nftables and the integration off', () => {
  let net: Router;
  let ufw: UfwHost;
  let cfg: TempConfig;

  beforeAll(async () => {
    net = await createRouter();
    ufw = await startUfwHost(net.router);
    cfg = tempConfig({ backend: 'nftables', integrations: { ufw: 'off' } });
    await ufw.ufw('--force', 'enable');
  });
  afterAll(async () => {
    cfg?.remove();
    await ufw?.destroy();
    await net?.destroy();
  });

  const tailnet = async () => (await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7400 })).arrived;

  it('apply succeeds, changes nothing in ufw, and prints exactly one warning line naming ufw', async () => {
    const run = await ufw.tsfw(['apply', '-c', cfg.path, '--no-save'], ENV);
    expect(run.exitCode, run.stderr).toBe(0);
    const warnings = run.stdout.split('\n').filter((l) => l.includes('warning'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/^ {2}warning: tsfw doctor would fail: ufw drops tailnet input on tailscale0 \(default drop\)/);
    expect(await ufw.ufw('status')).not.toContain('tsfw');
    expect(await tailnet()).toBe(false);
  });

  it('doctor exits 1 with a manager-ufw failure whose first fix is persistent', async () => {
    const run = await ufw.tsfw<DoctorReport>(['doctor', '-c', cfg.path, '--json'], ENV);
    expect(run.exitCode).toBe(1);
    const check = run.json!.checks.find((c) => c.id === 'manager-ufw')!;
    expect(check).toMatchObject({ status: 'fail', message: expect.stringMatching(/^ufw drops tailnet input on tailscale0/) });
    expect(check.fix!.split('\n')[0]).toBe('ufw allow in on tailscale0 && ufw allow 41641/udp && ufw route allow in on tailscale0   # persistent: ufw keeps these in /etc/ufw/user.rules');
    expect(run.json!.checks.filter((c) => c.status === 'fail').map((c) => c.id)).toEqual(['manager-ufw']);
  });

  it('after the persistent fix, doctor confirms it from ufw\'s rules (ok, exit 0), apply warns no more and tailnet traffic passes', async () => {
    await ufw.ufw('allow', 'in', 'on', 'tailscale0');
    await ufw.ufw('allow', '41641/udp');
    await ufw.ufw('route', 'allow', 'in', 'on', 'tailscale0');
    const run = await ufw.tsfw<DoctorReport>(['doctor', '-c', cfg.path, '--json'], ENV);
    const check = run.json!.checks.find((c) => c.id === 'manager-ufw')!;
    expect(check).toMatchObject({ status: 'ok', message: expect.stringContaining('ufw is active and allows tailnet input on tailscale0, the WireGuard port 41641/udp, traffic routed from tailscale0') });
    expect(run.exitCode).toBe(0);
    // Nothing else about ufw's chains either: the generic cross-table checks defer to manager-ufw.
    expect(run.json!.checks.filter((c) => c.status !== 'ok')).toEqual([]);
    const apply = await ufw.tsfw(['apply', '-c', cfg.path, '--no-save'], ENV);
    expect(apply.stdout).not.toContain('warning');
    expect(await tailnet()).toBe(true);
  });
});
