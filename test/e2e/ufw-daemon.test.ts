import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { StatusReport, TempConfig } from '../helpers/cli.js';
import { cliEnv, startTsfwDaemon } from '../helpers/daemon.js';
import type { DaemonProcess } from '../helpers/daemon.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';
import { startUfwHost } from '../helpers/ufw.js';
import type { UfwHost } from '../helpers/ufw.js';

/**
 * Boot order: the daemon (backend auto, the default 10 s schedule) starts while ufw is still
 * disabled, so it picks nftables; `ufw enable` then loads ufw's deny-by-default chains. Within
 * 15 s tailnet traffic passes again: the daemon sees the managers change, switches to the
 * iptables flavour ufw writes in one pass (removing its nft table), adds its ufw rules, logs why,
 * and `tsfw status` shows that backend with the daemon's evidence. `ufw reload`, `disable` and
 * `enable` then change nothing for tailnet traffic.
 */

describe('tsfw daemon started before ufw enable', () => {
  let net: Router;
  let ufw: UfwHost;
  let cfg: TempConfig;
  let daemon: DaemonProcess | undefined;

  const probes = async () => ({
    tailnet: (await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7400 })).arrived,
    wireguard: (await probeUdp(net.wan, net.router, { src: ADDR.wanHost, dst: ADDR.routerWan, port: 41641 })).arrived,
    forward: (await probeUdp(net.peer, net.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: 7401 })).arrived,
  });
  const allPass = { tailnet: true, wireguard: true, forward: true };

  beforeAll(async () => {
    net = await createRouter();
    ufw = await startUfwHost(net.router);
    cfg = tempConfig({ backend: 'auto' });
  });
  afterAll(async () => {
    if (daemon) await daemon.stop();
    cfg?.remove();
    await ufw?.destroy();
    await net?.destroy();
  });

  it('picks nftables while ufw is disabled', async () => {
    daemon = await startTsfwDaemon(net.router, cfg.path, { SSH_CONNECTION: '' }, { wrap: ufw.wrap });
    expect(daemon.state()).toMatchObject({ backend: 'nftables', backendReason: 'auto: no iptables rules in either flavour' });
    expect(daemon.state()!.evidence).toContain('ufw installed but not enabled (/etc/ufw/ufw.conf)');
    expect(await probes()).toEqual(allPass);
  });

  it('after ufw enable, tailnet traffic passes within 15 s on the iptables flavour ufw uses; status shows the daemon\'s backend and evidence', async () => {
    await ufw.ufw('--force', 'enable');
    const enabled = performance.now();
    let seen = await probes();
    while (JSON.stringify(seen) !== JSON.stringify(allPass)) {
      if (performance.now() - enabled > 15_000) throw new Error(`tailnet traffic still dropped 15 s after ufw enable: ${JSON.stringify(seen)}`);
      seen = await probes();
    }
    const took = performance.now() - enabled;
    expect(took).toBeLessThan(15_000);
    await daemon!.waitFor('the switch logged', () => daemon!.logs.find((l) => l.msg === 'firewall managers changed: switching backend in this pass'));
    const switched = daemon!.logs.find((l) => l.msg === 'firewall managers changed: switching backend in this pass')!;
    expect(switched).toMatchObject({ from: 'nftables', to: 'iptables-nft', reason: 'auto: ufw is enabled and keeps its rules in iptables-nft' });
    await daemon!.waitFor('state on iptables-nft', () => daemon!.state()?.backend === 'iptables-nft');
    expect((await net.router.exec('nft', ['list', 'table', 'inet', 'tsfw'], { reject: false })).exitCode).not.toBe(0);
    expect(await net.router.sh('iptables-nft-save -t filter')).toMatch(/-A INPUT -m comment --comment "?tsfw:/);
    expect(await ufw.ufw('status')).toContain('# tsfw');

    const status = await ufw.tsfw<StatusReport & { backendReason: string; evidence: string[] }>(['status', '-c', cfg.path, '--json'], cliEnv(daemon!.runDir));
    expect(status.json).toMatchObject({ backend: 'iptables-nft', converged: true });
    expect(status.json!.backendReason).toBe(`in use by the daemon (pid ${daemon!.state()!.pid}): auto: ufw is enabled and keeps its rules in iptables-nft`);
    expect(status.json!.evidence.some((e) => e.startsWith('ufw enabled (ENABLED=yes in /etc/ufw/ufw.conf)'))).toBe(true);
    console.log(`tailnet traffic passed ${Math.round(took)} ms after ufw enable`);
  });

  it.each([
    ['reload', ['reload']],
    ['disable', ['disable']],
    ['enable', ['--force', 'enable']],
  ])('ufw %s changes nothing for tailnet traffic', async (_name, args) => {
    await ufw.ufw(...args);
    // Right after ufw returns, and again a moment later (a repair pass of the daemon in between).
    expect(await probes()).toEqual(allPass);
    expect(await probes()).toEqual(allPass);
  });

  it('logged no error-level line and stops cleanly', async () => {
    expect(daemon!.logs.filter((l) => Number(l.level) >= 50)).toEqual([]);
    expect(daemon!.state()!.backend).toBe('iptables-nft');
    expect(await daemon!.stop()).toBe(0);
    daemon = undefined;
  });
});
