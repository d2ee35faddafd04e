import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConfigInput } from '../../src/config/schema.js';
import type { Mode } from '../../src/model/types.js';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, StatusReport, TempConfig } from '../helpers/cli.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * The built CLI applies each mode inside the router namespace; real datagrams then show what the
 * kernel does with them. Every port is distinct so no conntrack entry carries over between cases.
 */

const BASE: ConfigInput = { backend: 'nftables' };
/** A second CGNAT address on the LAN host, next to ADDR.spoofed but outside the exemption. */
const NOT_EXEMPT = '100.100.0.98';
let nextPort = 6000;
const port = () => nextPort++;

describe('nftables backend, real packets through a namespace router', () => {
  let net: Router;
  let cfg: TempConfig;

  const apply = (mode: Mode) => tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', mode, '-c', cfg.path]);
  const status = () => tsfwJson<StatusReport>(net.router, ['status', '-c', cfg.path]);
  const packets = async (rule: string) => {
    const found = (await status()).objects.find((o) => o.rule === rule);
    expect(found, `status lists ${rule}`).toBeDefined();
    return found!.packets ?? 0;
  };

  // The four paths every mode is judged on.
  const spoofToRouter = () => probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: port() });
  const spoofToTailnet = () => probeUdp(net.lan, net.peer, { src: ADDR.spoofed, dst: ADDR.peer, port: port() });
  const tailnetToRouter = () => probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: port() });
  const tailnetToLan = () => probeUdp(net.peer, net.lan, { src: ADDR.peer, dst: ADDR.lanHost, port: port() });

  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig(BASE);
  });
  afterAll(async () => {
    await net?.destroy();
    cfg?.remove();
  });

  describe('mode on', () => {
    beforeAll(async () => {
      const report = await apply('on');
      expect(report).toMatchObject({ changed: true, mode: 'on', backend: 'nftables' });
    });

    it('from lan0 with a spoofed 100.64.0.0/10 source to the router → dropped, and cgnat-spoof counts it', async () => {
      const before = await packets('ts-input/cgnat-spoof');
      expect(await spoofToRouter()).toEqual({ arrived: false });
      expect(await packets('ts-input/cgnat-spoof')).toBeGreaterThan(before);
    });

    it('from tailscale0 (a 100.64.0.0/10 source) to the router → accepted by tunnel-accept', async () => {
      const before = await packets('ts-input/tunnel-accept');
      expect(await tailnetToRouter()).toEqual({ arrived: true, from: ADDR.peer });
      expect(await packets('ts-input/tunnel-accept')).toBeGreaterThan(before);
    });

    it('from tailscale0 to a LAN host → forwarded and masqueraded to the router\'s LAN address', async () => {
      const before = await packets('ts-postrouting/masquerade-marked');
      expect(await tailnetToLan()).toEqual({ arrived: true, from: ADDR.routerLan });
      expect(await packets('ts-postrouting/masquerade-marked')).toBeGreaterThan(before);
    });

    it('from lan0 with a CGNAT source toward tailscale0 → dropped by cgnat-to-tunnel', async () => {
      const before = await packets('ts-forward/cgnat-to-tunnel');
      expect(await spoofToTailnet()).toEqual({ arrived: false });
      expect(await packets('ts-forward/cgnat-to-tunnel')).toBeGreaterThan(before);
    });

    it('a LAN host\'s own address toward tailscale0 → forwarded, not masqueraded', async () => {
      expect(await probeUdp(net.lan, net.peer, { src: ADDR.lanHost, dst: ADDR.peer, port: port() }))
        .toEqual({ arrived: true, from: ADDR.lanHost });
    });

    it('IPv6 from tailscale0 to the router → accepted', async () => {
      expect(await probeUdp(net.peer, net.router, { src: ADDR.peer6, dst: ADDR.routerTailnet6, port: port() }))
        .toEqual({ arrived: true, from: ADDR.peer6 });
    });

    it('IPv6 from tailscale0 to a LAN host → forwarded and masqueraded', async () => {
      expect(await probeUdp(net.peer, net.lan, { src: ADDR.peer6, dst: ADDR.lanHost6, port: port() }))
        .toEqual({ arrived: true, from: ADDR.routerLan6 });
    });
  });

  describe('mode on with cgnat.exempt covering the spoofed address', () => {
    beforeAll(async () => {
      cfg.write({ ...BASE, cgnat: { exempt: [`${ADDR.spoofed}/32`] } });
      const report = await apply('on');
      expect(report.changed).toBe(true);
      expect(report.actions.map((a) => [a.op, a.chain])).toContainEqual(['fill-chain', 'ts-input']);
    });
    afterAll(() => cfg.write(BASE));

    it('from lan0 with the exempt source to the router → passes, counted by cgnat-exempt', async () => {
      const rule = `ts-input/cgnat-exempt[${ADDR.spoofed}/32]`;
      const before = await packets(rule);
      expect(await spoofToRouter()).toEqual({ arrived: true, from: ADDR.spoofed });
      expect(await packets(rule)).toBeGreaterThan(before);
    });

    it('from lan0 with a neighbouring CGNAT source that is not exempt → still dropped', async () => {
      await net.lan.sh(`ip addr add ${NOT_EXEMPT}/32 dev eth0`);
      expect(await probeUdp(net.lan, net.router, { src: NOT_EXEMPT, dst: ADDR.routerLan, port: port() }))
        .toEqual({ arrived: false });
    });

    it('the exemption covers input only: the same source toward tailscale0 → dropped', async () => {
      expect(await spoofToTailnet()).toEqual({ arrived: false });
    });
  });

  for (const mode of ['nodivert', 'off'] as const) {
    describe(`mode ${mode}`, () => {
      beforeAll(async () => {
        const report = await apply(mode);
        expect(report).toMatchObject({ changed: true, mode });
      });

      it('from lan0 with a spoofed 100.64.0.0/10 source to the router → passes (nothing diverts)', async () => {
        expect(await spoofToRouter()).toEqual({ arrived: true, from: ADDR.spoofed });
      });

      it('from lan0 with a CGNAT source toward tailscale0 → passes', async () => {
        expect(await spoofToTailnet()).toEqual({ arrived: true, from: ADDR.spoofed });
      });

      it('from tailscale0 to a LAN host → forwarded without masquerade', async () => {
        expect(await tailnetToLan()).toEqual({ arrived: true, from: ADDR.peer });
      });
    });
  }

  describe('back to mode on', () => {
    it('drops the spoof again', async () => {
      expect((await apply('on')).changed).toBe(true);
      expect(await spoofToRouter()).toEqual({ arrived: false });
      expect(await tailnetToRouter()).toEqual({ arrived: true, from: ADDR.peer });
    });
  });
});
