import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * IPv6 anti-spoof (`cgnat.range6`, default fd7a:115c:a1e0::/48) with real datagrams on all three
 * backends: a tailnet IPv6 source on the LAN link is dropped at input and when forwarded toward
 * the tunnel, and accepted from the tunnel; `exempt6` lets a listed source through.
 */

const ULA = 'fd7a:115c:a1e0::99';
let nextPort = 7600;

describe.each(['nftables', 'iptables-nft', 'iptables-legacy'] as const)('IPv6 anti-spoof on %s', (backend) => {
  let net: Router;
  let cfg: TempConfig;
  const lanToRouter = () => probeUdp(net.lan, net.router, { src: ULA, dst: ADDR.routerLan6, port: nextPort++ });
  const lanToTunnel = () => probeUdp(net.lan, net.peer, { src: ULA, dst: ADDR.peer6, port: nextPort++ });
  const tunnelToRouter = () => probeUdp(net.peer, net.router, { src: ULA, dst: ADDR.routerTailnet6, port: nextPort++ });

  beforeAll(async () => {
    net = await createRouter();
    await net.lan.sh(`ip addr add ${ULA}/128 dev eth0 nodad`);
    await net.peer.sh(`ip addr add ${ULA}/128 dev eth0 nodad`);
    cfg = tempConfig({ backend });
  });
  afterAll(async () => {
    await net?.destroy();
    cfg?.remove();
  });

  it('before tsfw, the spoofed ULA source reaches the router and the tunnel (the drops below are tsfw\'s)', async () => {
    // Fresh links: the first datagrams may wait for IPv6 link-local DAD and neighbour discovery.
    const eventually = async (probe: () => Promise<{ arrived: boolean }>) => {
      for (let i = 0; i < 10; i++) if ((await probe()).arrived) return true;
      return false;
    };
    expect(await eventually(lanToRouter)).toBe(true);
    expect(await eventually(lanToTunnel)).toBe(true);
  });

  it('default config: dropped from the LAN at input and toward the tunnel, accepted from the tunnel', async () => {
    expect((await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path])).changed).toBe(true);
    expect(await lanToRouter()).toEqual({ arrived: false });
    expect(await lanToTunnel()).toEqual({ arrived: false });
    expect(await tunnelToRouter()).toEqual({ arrived: true, from: ULA });
    const status = await tsfwJson<{ objects: { rule?: string; packets?: number }[] }>(net.router, ['status', '--json', '-c', cfg.path]);
    const packets = (rule: string) => status.objects.filter((o) => o.rule === rule).reduce((n, o) => n + (o.packets ?? 0), 0);
    expect(packets('ts-input/cgnat6-spoof')).toBeGreaterThan(0);
    expect(packets('ts-forward/cgnat6-to-tunnel')).toBeGreaterThan(0);
  });

  it('exempt6 lets a listed source in; cgnat.mode off removes the IPv6 rules too', async () => {
    cfg.write({ backend, cgnat: { exempt6: [`${ULA}/128`] } });
    await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path]);
    expect((await lanToRouter()).arrived).toBe(true);
    cfg.write({ backend, cgnat: { mode: 'off' } });
    await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path]);
    expect((await lanToTunnel()).arrived).toBe(true);
  });
});
