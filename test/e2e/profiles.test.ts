import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Check } from '../../src/doctor/types.js';
import { tempConfig, tsfw, tsfwJson } from '../helpers/cli.js';
import type { TempConfig } from '../helpers/cli.js';
import { tcpConnects, udpFrom } from '../helpers/sockets.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * The lockdown and required-ports profiles with real packets on the namespace router. Only the
 * router's own traffic (input/output) is concerned; every packet is sent by a real socket.
 */

const ENV = { SSH_CONNECTION: '' };
const WAN_HOST = '198.51.100.2';
const ROUTER_WAN = '198.51.100.1';

describe('lockdown profile (namespace router)', () => {
  let net: Router;
  let cfg: TempConfig;
  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({
      mode: 'on', backend: 'nftables', profiles: ['tailscale', 'lockdown'],
      lockdown: { managementPorts: [{ interface: 'lan0', proto: 'udp', port: 5022 }] },
    });
  });
  afterAll(async () => {
    cfg?.remove();
    await net?.destroy();
  });

  it('before lockdown, WAN traffic to an unlisted port reaches the router (the drop below is lockdown\'s)', async () => {
    expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 7000 })).arrived).toBe(true);
  });

  it('refuses to apply from an SSH session over the WAN unless --force', async () => {
    const ssh = { SSH_CONNECTION: `${WAN_HOST} 50022 ${ROUTER_WAN} 22` };
    const refused = await tsfw(net.router, ['apply', '-c', cfg.path], ssh);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toMatch(/refusing to apply lockdown.*on wan0.*\{ interface: wan0, port: 22 \}.*--force/);
    expect((await net.router.exec('nft', ['list', 'tables'])).stdout).not.toMatch(/tsfw/);
    // reconcile (what Ansible runs over SSH) has the same guard.
    const reconcile = await tsfw(net.router, ['reconcile', '-c', cfg.path], ssh);
    expect(reconcile.exitCode).toBe(1);
    expect(reconcile.stderr).toMatch(/refusing to apply lockdown.*on wan0.*\{ interface: wan0, port: 22 \}.*--force/);
    expect((await net.router.exec('nft', ['list', 'tables'])).stdout).not.toMatch(/tsfw/);
    // Over the tunnel is fine.
    const tunnel = await tsfw(net.router, ['apply', '-c', cfg.path, '--dry-run'], { SSH_CONNECTION: `${ADDR.peer} 50022 ${ADDR.routerTailnet} 22` });
    expect(tunnel.exitCode).toBe(0);
  });

  it('applies with --force; WAN to an unlisted port is dropped, tailnet and WireGuard are accepted', async () => {
    await tsfwJson(net.router, ['apply', '-c', cfg.path, '--force'], { SSH_CONNECTION: `${WAN_HOST} 50022 ${ROUTER_WAN} 22` });
    expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 7000 })).arrived).toBe(false);
    expect((await probeUdp(net.lan, net.router, { src: ADDR.lanHost, dst: ADDR.routerLan, port: 7000 })).arrived).toBe(false);
    expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7000 })).arrived).toBe(true);
    expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 41641 })).arrived).toBe(true);
  });

  it('the management port is open on its interface only', async () => {
    expect((await probeUdp(net.lan, net.router, { src: ADDR.lanHost, dst: ADDR.routerLan, port: 5022 })).arrived).toBe(true);
    expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 5022 })).arrived).toBe(false);
  });

  it('replies to the router\'s own connections still come back (established)', async () => {
    expect(await tcpConnects(net.router, net.wan, WAN_HOST, 8443)).toBe(true);
    // …while a new inbound connection from the WAN is dropped.
    expect(await tcpConnects(net.wan, net.router, ROUTER_WAN, 8443)).toBe(false);
  });

  it('the rule counters show which lockdown rule did it', async () => {
    const status = await tsfwJson<{ objects: { rule?: string; packets?: number }[] }>(net.router, ['status', '-c', cfg.path], ENV);
    const drop = status.objects.find((o) => o.rule === 'ts-lockdown-input/drop-rest');
    expect(drop?.packets).toBeGreaterThan(0);
  });
});

describe('required-ports profile under an OUTPUT policy drop (namespace router)', () => {
  let net: Router;
  let cfg: TempConfig;
  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({ mode: 'nodivert', backend: 'nftables', profiles: ['tailscale', 'required-ports'] });
  });
  afterAll(async () => {
    cfg?.remove();
    await net?.destroy();
  });

  it('nodivert + the admin\'s default-drop output base chain jumping to ts-required-out: exactly the listed ports leave', async () => {
    await tsfwJson(net.router, ['apply', '-c', cfg.path], ENV);
    // The admin's own base chain with policy drop, wired to tsfw's chain (docs/modes.md: nodivert).
    await net.router.sh(`nft add chain inet tsfw admin-out '{ type filter hook output priority 0; policy drop; }' && nft add rule inet tsfw admin-out oifname lo accept && nft add rule inet tsfw admin-out jump ts-required-out`);
    const out = (sport: number, dport: number) => udpFrom(net.router, net.wan, { src: ROUTER_WAN, sport, dst: WAN_HOST, dport });
    expect(await out(41641, 9999)).toBe(true); // from the WireGuard port to any port
    expect(await out(40000, 3478)).toBe(true); // STUN
    expect(await out(40001, 9999)).toBe(false);
    expect(await out(40002, 53)).toBe(false);
    expect(await out(40003, 443)).toBe(false); // 443 is TCP only
    expect(await tcpConnects(net.router, net.wan, WAN_HOST, 443)).toBe(true);
    expect(await tcpConnects(net.router, net.wan, WAN_HOST, 80)).toBe(true);
    expect(await tcpConnects(net.router, net.wan, WAN_HOST, 22)).toBe(false);
    expect(await tcpConnects(net.router, net.wan, WAN_HOST, 8080)).toBe(false);
    // tsfw converges without touching the admin's chain in its table.
    const again = await tsfwJson<{ changed: boolean }>(net.router, ['apply', '-c', cfg.path], ENV);
    expect(again.changed).toBe(false);
    expect(await net.router.exec('nft', ['list', 'chain', 'inet', 'tsfw', 'admin-out']).then((r) => r.stdout)).toMatch(/jump ts-required-out/);
    await net.router.sh('nft delete chain inet tsfw admin-out');
  });

  it('mode on with the drop policy in another table: tsfw\'s accept is not final, and doctor says so naming the table', async () => {
    cfg.write({ mode: 'on', backend: 'nftables', profiles: ['tailscale', 'required-ports'] });
    await tsfwJson(net.router, ['apply', '-c', cfg.path], ENV);
    await net.router.sh(`nft add table inet admin && nft add chain inet admin output '{ type filter hook output priority 0; policy drop; }' && nft add rule inet admin output oifname lo accept`);
    try {
      expect(await udpFrom(net.router, net.wan, { src: ROUTER_WAN, sport: 40000, dst: WAN_HOST, dport: 3478 })).toBe(false);
      const run = await tsfw<{ checks: Check[] }>(net.router, ['doctor', '-c', cfg.path, '--json'], ENV);
      const check = run.json?.checks.find((c) => c.id === 'required-ports');
      expect(check?.status).toBe('warn');
      expect(check?.message).toMatch(/table inet admin chain output .*drops.*STUN out to 3478\/udp \(policy drop\)/);
      expect(check?.fix).toContain('nft insert rule inet admin output udp dport 3478 accept');
      // Following doctor's fix lets exactly that port out.
      await net.router.sh('nft insert rule inet admin output udp dport 3478 accept');
      expect(await udpFrom(net.router, net.wan, { src: ROUTER_WAN, sport: 40000, dst: WAN_HOST, dport: 3478 })).toBe(true);
    } finally {
      await net.router.sh('nft delete table inet admin');
    }
  });
});
