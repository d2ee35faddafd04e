import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';
import { adminIptables, startUfwHost } from '../helpers/ufw.js';
import type { UfwHost } from '../helpers/ufw.js';

/**
 * The ufw integration with the real ufw (enabled, Debian's default policies: deny incoming and
 * routed): tsfw's `inet tsfw` table alone cannot let tailnet traffic through ufw's iptables-nft
 * chains, so tsfw adds `allow in on tailscale0`, `allow 41641/udp` and `route allow in on
 * tailscale0` with the comment tsfw, a converged pass runs no ufw command, and mode off leaves
 * `ufw status numbered` and the rest of iptables-save exactly as before.
 */

const ENV = { SSH_CONNECTION: '' };

describe('ufw integration (backend nftables beside an enabled ufw)', () => {
  let net: Router;
  let ufw: UfwHost;
  let cfg: TempConfig;
  let before: { status: string; ipt: string };

  const probes = async () => ({
    tailnet: (await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7400 })).arrived,
    wireguard: (await probeUdp(net.wan, net.router, { src: ADDR.wanHost, dst: ADDR.routerWan, port: 41641 })).arrived,
    forward: (await probeUdp(net.peer, net.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: 7401 })).arrived,
  });

  beforeAll(async () => {
    net = await createRouter();
    ufw = await startUfwHost(net.router);
    cfg = tempConfig({ backend: 'nftables' });
    await ufw.ufw('allow', '22/tcp');
    await ufw.ufw('--force', 'enable');
    before = { status: await ufw.ufw('status', 'numbered'), ipt: await adminIptables(ufw) };
  });
  afterAll(async () => {
    cfg?.remove();
    await ufw?.destroy();
    await net?.destroy();
  });

  it('without tsfw\'s ufw rules, ufw drops tailnet input, the WireGuard port and tailnet forwarding', async () => {
    expect(await probes()).toEqual({ tailnet: false, wireguard: false, forward: false });
  });

  it('apply adds the three kinds of rule with the tsfw comment and traffic passes', async () => {
    const run = await ufw.tsfw<ConvergeReport>(['apply', '-c', cfg.path, '--no-save', '--json'], ENV);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.integrations).toEqual([
      { manager: 'ufw', op: 'add', kind: 'allow-in', value: 'tailscale0', permanent: true },
      { manager: 'ufw', op: 'add', kind: 'port', value: '41641/udp', permanent: true },
      { manager: 'ufw', op: 'add', kind: 'route-in', value: 'tailscale0', permanent: true },
    ]);
    const status = await ufw.ufw('status');
    expect(status).toMatch(/Anywhere on tailscale0 +ALLOW( IN)? +Anywhere +# tsfw/);
    expect(status).toMatch(/41641\/udp +ALLOW( IN)? +Anywhere +# tsfw/);
    expect(status).toMatch(/Anywhere +ALLOW FWD +Anywhere on tailscale0 +# tsfw/);
    expect(await probes()).toEqual({ tailnet: true, wireguard: true, forward: true });
  });

  it('a converged pass runs no ufw command (ufw\'s files untouched) and changes nothing', async () => {
    const mtime = statSync(`${ufw.etcDir}/user.rules`).mtimeMs;
    const run = await ufw.tsfw<ConvergeReport>(['apply', '-c', cfg.path, '--no-save', '--json'], ENV);
    expect(run.json).toMatchObject({ changed: false, integrations: [] });
    expect(statSync(`${ufw.etcDir}/user.rules`).mtimeMs).toBe(mtime);
  });

  it('mode off removes exactly tsfw\'s rules: ufw status numbered and the rest of iptables-save as before', async () => {
    const run = await ufw.tsfw<ConvergeReport>(['apply', '--mode', 'off', '-c', cfg.path, '--no-save', '--json'], ENV);
    expect(run.exitCode, run.stderr).toBe(0);
    expect(run.json!.integrations.map((c) => `${c.op} ${c.kind} ${c.value}`)).toEqual(['remove allow-in tailscale0', 'remove port 41641/udp', 'remove route-in tailscale0']);
    expect(await ufw.ufw('status', 'numbered')).toBe(before.status);
    expect(await adminIptables(ufw)).toBe(before.ipt);
  });

  it('backend auto beside the enabled ufw picks iptables-nft; after cleanup, ufw status numbered and the rest of iptables-save are as before', async () => {
    const auto = tempConfig({ backend: 'auto' });
    try {
      const run = await ufw.tsfw<ConvergeReport>(['apply', '-c', auto.path, '--no-save', '--json'], ENV);
      expect(run.exitCode, run.stderr).toBe(0);
      expect(run.json).toMatchObject({ backend: 'iptables-nft' });
      expect(run.json!.integrations).toHaveLength(3);
      expect(await probes()).toEqual({ tailnet: true, wireguard: true, forward: true });
      const cleanup = await ufw.tsfw(['cleanup', '-c', auto.path, '--json'], ENV);
      expect(cleanup.exitCode, cleanup.stderr).toBe(0);
      expect(await ufw.ufw('status', 'numbered')).toBe(before.status);
      expect(await adminIptables(ufw)).toBe(before.ipt);
    } finally {
      auto.remove();
    }
  });
});
