import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { desiredIptTables } from '../../src/backends/iptables/render.js';
import { Config } from '../../src/config/schema.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { Family } from '../../src/model/types.js';
import { rulesetFor } from '../../src/profiles/load.js';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';
import { tcpConnects, udpFrom } from '../helpers/sockets.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * The lockdown and required-ports profiles on iptables-nft and iptables-legacy, with the packets
 * of profiles.test.ts (nftables). With iptables tsfw's jump sits at position 1 of the built-in
 * chain, so its accept is final for the filter table: required-ports works in mode `on` under the
 * admin's own OUTPUT policy DROP. Plus a round trip of all three profiles: a second apply must
 * find nothing to change (any render/parse mismatch would show up as drift forever).
 */

const ENV = { SSH_CONNECTION: '' };
const WAN_HOST = '198.51.100.2';
const ROUTER_WAN = '198.51.100.1';
const LAN_HOST6 = '2001:db8:1::2';
const ROUTER_LAN6 = '2001:db8:1::1';

type Flavour = 'nft' | 'legacy';
const bin = (flavour: Flavour, family: Family, tool = '') => `${family === 'ip' ? 'iptables' : 'ip6tables'}-${flavour}${tool}`;

describe.each(['nft', 'legacy'] as const)('profiles on iptables-%s', (flavour) => {
  const backend = `iptables-${flavour}` as const;
  const save = async (ns: Netns, family: Family = 'ip') => (await ns.exec(bin(flavour, family, '-save'), [])).stdout;

  describe('lockdown (namespace router)', () => {
    let net: Router;
    let cfg: TempConfig;
    beforeAll(async () => {
      net = await createRouter();
      cfg = tempConfig({
        mode: 'on', backend, profiles: ['tailscale', 'lockdown'],
        lockdown: { managementPorts: [{ interface: 'lan0', proto: 'udp', port: 5022 }] },
      });
    });
    afterAll(async () => {
      cfg?.remove();
      await net?.destroy();
    });

    it('before lockdown, WAN and LAN traffic to unlisted ports reaches the router (the drops below are lockdown\'s)', async () => {
      expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 7000 })).arrived).toBe(true);
      expect((await probeUdp(net.lan, net.router, { src: LAN_HOST6, dst: ROUTER_LAN6, port: 7001 })).arrived).toBe(true);
    });

    it('WAN to an unlisted port is dropped; tailnet and the WireGuard port are accepted', async () => {
      expect(await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path], ENV)).toMatchObject({ changed: true, backend });
      expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 7000 })).arrived).toBe(false);
      expect((await probeUdp(net.lan, net.router, { src: ADDR.lanHost, dst: ADDR.routerLan, port: 7000 })).arrived).toBe(false);
      expect((await probeUdp(net.peer, net.router, { src: ADDR.peer, dst: ADDR.routerTailnet, port: 7000 })).arrived).toBe(true);
      expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 41641 })).arrived).toBe(true);
    });

    it('IPv6: neighbour discovery still works (icmpv6), so the WireGuard port answers while other ports are dropped', async () => {
      // Forget the neighbours learnt by the probes before lockdown, so discovery really runs now
      // (a still-reachable entry would skip it and leave the counter below at 0).
      await Promise.all([net.router.sh('ip -6 neigh flush all'), net.lan.sh('ip -6 neigh flush all'), net.peer.sh('ip -6 neigh flush all')]);
      expect((await probeUdp(net.lan, net.router, { src: LAN_HOST6, dst: ROUTER_LAN6, port: 41641 })).arrived).toBe(true);
      expect((await probeUdp(net.lan, net.router, { src: LAN_HOST6, dst: ROUTER_LAN6, port: 7001 })).arrived).toBe(false);
      expect((await probeUdp(net.peer, net.router, { src: ADDR.peer6, dst: ADDR.routerTailnet6, port: 7002 })).arrived).toBe(true);
      // The neighbour discovery above went through lockdown's icmpv6 rule, not around it.
      const counted = await net.router.exec(bin(flavour, 'ip6', '-save'), ['-c']);
      expect(Number(/^\[(\d+):\d+\] .*"tsfw:ts-lockdown-input\/icmpv6"/m.exec(counted.stdout)?.[1])).toBeGreaterThan(0);
    });

    it('the management port is open on its interface only', async () => {
      expect((await probeUdp(net.lan, net.router, { src: ADDR.lanHost, dst: ADDR.routerLan, port: 5022 })).arrived).toBe(true);
      expect((await probeUdp(net.wan, net.router, { src: WAN_HOST, dst: ROUTER_WAN, port: 5022 })).arrived).toBe(false);
    });

    it('replies to the router\'s own connections come back (conntrack established), new inbound ones do not', async () => {
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 8443)).toBe(true);
      expect(await tcpConnects(net.wan, net.router, ROUTER_WAN, 8443)).toBe(false);
    });

    it('the drop is lockdown\'s last rule, by its kernel counter', async () => {
      const drop = (await save(net.router)).split('\n').find((l) => l.includes('"tsfw:ts-lockdown-input/drop-rest"'));
      expect(drop).toBeDefined();
      const counted = await net.router.exec(bin(flavour, 'ip', '-save'), ['-c']);
      const packets = /^\[(\d+):\d+\] .*"tsfw:ts-lockdown-input\/drop-rest"/m.exec(counted.stdout)?.[1];
      expect(Number(packets)).toBeGreaterThan(0);
    });
  });

  describe('required-ports under the admin\'s OUTPUT policy DROP (namespace router)', () => {
    let net: Router;
    let cfg: TempConfig;
    beforeAll(async () => {
      net = await createRouter();
      cfg = tempConfig({ mode: 'on', backend, profiles: ['tailscale', 'required-ports'] });
      // The admin's default-drop host: loopback allowed, everything else out dropped by policy.
      await net.router.sh(`${bin(flavour, 'ip')} -w -A OUTPUT -o lo -j ACCEPT && ${bin(flavour, 'ip')} -w -P OUTPUT DROP`);
    });
    afterAll(async () => {
      cfg?.remove();
      await net?.destroy();
    });

    const out = (sport: number, dport: number) => udpFrom(net.router, net.wan, { src: ROUTER_WAN, sport, dst: WAN_HOST, dport });

    it('before tsfw the policy drops STUN and HTTPS (so what passes below is tsfw\'s doing)', async () => {
      expect(await out(40000, 3478)).toBe(false);
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 443)).toBe(false);
    });

    it('mode on: exactly the listed ports leave', async () => {
      expect(await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path], ENV)).toMatchObject({ changed: true, backend });
      expect(await out(41641, 9999)).toBe(true); // from the WireGuard port to any port
      expect(await out(40000, 3478)).toBe(true); // STUN
      expect(await out(40001, 9999)).toBe(false);
      expect(await out(40002, 53)).toBe(false);
      expect(await out(40003, 443)).toBe(false); // 443 is TCP only
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 443)).toBe(true);
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 80)).toBe(true);
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 22)).toBe(false);
      expect(await tcpConnects(net.router, net.wan, WAN_HOST, 8080)).toBe(false);
    });

    it('the admin\'s policy and rule stay, the jump is first, and a second apply changes nothing', async () => {
      const text = await save(net.router);
      expect(text).toMatch(/^:OUTPUT DROP /m);
      // The filter table's OUTPUT (mangle OUTPUT holds the connmark jump, mode on's default).
      const filter = text.slice(text.indexOf('*filter'), text.indexOf('COMMIT', text.indexOf('*filter')));
      const output = filter.split('\n').filter((l) => l.startsWith('-A OUTPUT '));
      expect(output).toEqual(['-A OUTPUT -m comment --comment "tsfw:jump" -j ts-required-out', '-A OUTPUT -o lo -j ACCEPT']);
      const again = await tsfwJson<ConvergeReport>(net.router, ['apply', '-c', cfg.path], ENV);
      expect(again).toMatchObject({ changed: false, actions: [], drift: [] });
    });
  });

  describe('round trip of every profile', () => {
    let ns: Netns;
    let cfg: TempConfig;
    const input: ConfigInput = {
      mode: 'on', backend, profiles: ['tailscale', 'lockdown', 'required-ports'],
      addresses: ['100.100.0.1', '2001:db8:100::1'], statefulFiltering: true, ports: [41641, 41642],
      cgnat: { mode: 'return', exempt: ['100.115.92.0/23', '100.127.0.0/16'] },
      lockdown: { managementPorts: [{ interface: 'lan0', port: 22 }, { interface: 'wan0', proto: 'udp', port: 51820 }] },
    };
    beforeAll(async () => {
      ns = await createNetns('tsfwpi');
      cfg = tempConfig(input);
    });
    afterAll(async () => {
      cfg?.remove();
      await ns?.destroy();
    });

    it.each(['on', 'nodivert'] as const)('mode %s: iptables-save lists exactly the rendered lines, and a second apply reports changed: false', async (mode) => {
      await tsfwJson(ns, ['apply', '--mode', 'off', '-c', cfg.path, '--no-save'], ENV);
      const first = await tsfwJson<ConvergeReport>(ns, ['apply', '--mode', mode, '-c', cfg.path, '--no-save'], ENV);
      expect(first).toMatchObject({ changed: true, backend, mode });
      const tables = desiredIptTables(rulesetFor(Config.parse(input), mode));
      // The round trip must cover what tends to be spelled differently on the way back.
      const lines = tables.flatMap((t) => t.chains.flatMap((c) => c.rules.map((r) => r.line)));
      for (const needle of ['-p ipv6-icmp', '--ctstate RELATED,ESTABLISHED', '! --ctstate RELATED,ESTABLISHED', '--sport 41642', '-j MARK --set-xmark']) {
        expect(lines.some((l) => l.includes(needle)), needle).toBe(true);
      }
      for (const table of tables) {
        const text = (await ns.exec(bin(flavour, table.family, '-save'), ['-t', table.table])).stdout;
        for (const chain of table.chains) {
          expect(text.split('\n').filter((l) => l.startsWith(`-A ${chain.name} `)), `${table.family} ${chain.name}`).toEqual(chain.rules.map((r) => r.line));
          const jump = `-A ${chain.builtin} -m comment --comment "tsfw:jump" -j ${chain.name}`;
          if (mode === 'on') expect(text).toContain(jump);
          else expect(text).not.toContain(jump);
        }
      }
      const again = await tsfwJson<ConvergeReport>(ns, ['apply', '--mode', mode, '-c', cfg.path, '--no-save'], ENV);
      expect(again).toMatchObject({ changed: false, actions: [], drift: [] });
    });
  });
});
