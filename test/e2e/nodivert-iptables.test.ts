import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Family, Mode } from '../../src/model/types.js';
import { tempConfig, tsfwJson } from '../helpers/cli.js';
import type { ConvergeReport, TempConfig } from '../helpers/cli.js';
import { ADDR, createRouter } from '../helpers/topology.js';
import type { Router } from '../helpers/topology.js';
import { probeUdp } from '../helpers/udp.js';

/**
 * nodivert never diverts, on both iptables flavours: on → nodivert removes exactly tsfw's tagged
 * jumps (a spoofed CGNAT source on the LAN then reaches the router, because nothing sends it
 * through ts-input), and an admin's own untagged jump keeps its place through every switch.
 */

type Flavour = 'nft' | 'legacy';
const bin = (flavour: Flavour, family: Family, tool = '') => `${family === 'ip' ? 'iptables' : 'ip6tables'}-${flavour}${tool}`;
let nextPort = 6600;

describe.each(['nft', 'legacy'] as const)('nodivert on iptables-%s, real packets', (flavour) => {
  const backend = `iptables-${flavour}` as const;
  let net: Router;
  let cfg: TempConfig;
  const apply = (mode: Mode) => tsfwJson<ConvergeReport>(net.router, ['apply', '--mode', mode, '-c', cfg.path]);
  const builtin = async (family: Family, table: string, chain: string) =>
    (await net.router.exec(bin(flavour, family, '-save'), ['-t', table])).stdout.split('\n').filter((l) => l.startsWith(`-A ${chain} `));
  const tagged = async () => {
    const all = [];
    for (const family of ['ip', 'ip6'] as const) {
      const builtins = [['filter', 'INPUT'], ['filter', 'FORWARD'], ['nat', 'POSTROUTING'], ['mangle', 'PREROUTING'], ['mangle', 'OUTPUT']] as const;
      for (const [table, chain] of builtins) {
        all.push(...(await builtin(family, table, chain)).filter((l) => l.includes('tsfw:jump')));
      }
    }
    return all;
  };
  const spoofToRouter = () => probeUdp(net.lan, net.router, { src: ADDR.spoofed, dst: ADDR.routerLan, port: nextPort++ });

  beforeAll(async () => {
    net = await createRouter();
    cfg = tempConfig({ backend });
  });
  afterAll(async () => {
    await net?.destroy();
    cfg?.remove();
  });

  it('on → nodivert: no tagged jump remains and a spoofed 100.64/10 source on the LAN reaches the router', async () => {
    await apply('on');
    // Per family: INPUT, FORWARD, nat POSTROUTING, mangle PREROUTING and OUTPUT (connmark).
    expect(await tagged()).toHaveLength(10);
    expect(await spoofToRouter()).toEqual({ arrived: false });
    const report = await apply('nodivert');
    expect(report.changed).toBe(true);
    expect(report.actions.filter((a) => a.op === 'delete-jump')).toHaveLength(10);
    expect(await tagged()).toEqual([]);
    expect((await spoofToRouter()).arrived).toBe(true);
    expect((await tsfwJson<ConvergeReport>(net.router, ['reconcile', '-c', cfg.path])).changed).toBe(false);
  });

  it("an admin's own jump stays exactly where it was through on → nodivert → on → nodivert", async () => {
    const ipt = (args: string) => net.router.sh(`${bin(flavour, 'ip')} -w ${args}`);
    await ipt('-A INPUT -s 203.0.113.7/32 -j ACCEPT');
    await ipt('-A INPUT -i lan0 -j ts-input');
    await ipt('-A INPUT -s 203.0.113.8/32 -j ACCEPT');
    const admin = ['-A INPUT -s 203.0.113.7/32 -j ACCEPT', '-A INPUT -i lan0 -j ts-input', '-A INPUT -s 203.0.113.8/32 -j ACCEPT'];
    const tag = '-A INPUT -m comment --comment "tsfw:jump" -j ts-input';
    expect(await builtin('ip', 'filter', 'INPUT')).toEqual(admin);
    // The admin's jump diverts in nodivert: the spoof from lan0 is dropped by ts-input again.
    expect(await spoofToRouter()).toEqual({ arrived: false });
    for (const mode of ['on', 'nodivert', 'on', 'nodivert'] as const) {
      await apply(mode);
      expect(await builtin('ip', 'filter', 'INPUT'), mode).toEqual(mode === 'on' ? [tag, ...admin] : admin);
    }
  });
});
